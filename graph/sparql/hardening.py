"""Hardening of rdflib's SPARQL engine for untrusted queries, applied in the query workers only.

Three repairs, each keeping SPARQL's semantics where rdflib 7.6 crashes instead:

1. SPARQL gives every expression a defined outcome: a value, or an *error* that makes a FILTER false
and leaves a BIND unbound. rdflib sometimes crashes instead, with a Python exception from inside an
operator or function (``"2020-09-27"^^xsd:date + <iri>`` raises AttributeError in rdflib 7.6).
Here such a crash while evaluating one expression becomes that expression's SPARQL error, as the
specification says it is, instead of failing the whole query.
2. ORDER BY must order every solution, including those whose key is an error or unbound, and
   literals rdflib cannot compare (``"a"`` and ``1``); rdflib's sort raises TypeError. Here
   errors and unbound keys sort first, and incomparable terms by kind and text.
3. An aggregate over a group where one value is an error (``SUM`` of an IRI) is an error, and so
   leaves its variable unbound for that group; rdflib raises AttributeError or a type error.

Failures elsewhere are left alone and are reported as engine errors.
"""

from __future__ import annotations

import decimal
import re

from rdflib.plugins.sparql import evaluate as rdflib_evaluate
from rdflib.plugins.sparql.evalutils import _val as order_rank
from rdflib.plugins.sparql.parserutils import Expr, value
from rdflib.plugins.sparql.sparql import SPARQLError

# What an operator or function crashing on unexpected operand types raises; never MemoryError or
# RecursionError, which are about the whole query.
EXPRESSION_FAILURES = (TypeError, AttributeError, ValueError, ArithmeticError, KeyError, IndexError,
                       decimal.InvalidOperation, UnicodeError, re.error)


def harden_expressions() -> None:
    """Make a Python exception inside one SPARQL expression that expression's error value."""
    original = Expr.eval
    if getattr(original, "hardened", False):
        return

    def evaluate(self, ctx={}):  # noqa: B006 - rdflib's own signature
        try:
            return original(self, ctx)
        except EXPRESSION_FAILURES as exc:
            return SPARQLError(f"{self.name}: {type(exc).__name__}")

    evaluate.hardened = True
    Expr.eval = evaluate


class OrderKey:
    """A total order over ORDER BY keys: errors and unbound first, then rdflib's order by kind
    (blank node, IRI, literal), falling back to kind and text where rdflib cannot compare."""

    __slots__ = ("rank", "term")

    def __init__(self, term):
        ranked = order_rank(term)
        self.rank, self.term = ranked if ranked is not None else (-1, None)

    def __lt__(self, other: "OrderKey") -> bool:
        if self.rank != other.rank:
            return self.rank < other.rank
        if self.term is None:
            return False
        try:
            return bool(self.term < other.term)
        except (TypeError, ValueError, ArithmeticError, AttributeError):
            return (type(self.term).__name__, str(self.term)) < (type(other.term).__name__, str(other.term))


def _ordered(ctx, part):
    """rdflib's ORDER BY evaluation with :class:`OrderKey` as the sort key."""
    solutions = rdflib_evaluate.evalPart(ctx, part.p)
    for condition in reversed(part.expr):
        descending = bool(condition.order and condition.order == "DESC")
        solutions = sorted(solutions, key=lambda s, c=condition: OrderKey(value(s, c.expr, variables=True)),
                           reverse=descending)
    return solutions


def harden_order_by() -> None:
    """Replace rdflib's ORDER BY evaluation with one that never fails on mixed or missing keys."""
    rdflib_evaluate.evalOrderBy = _ordered


def harden_aggregates() -> None:
    """Make a failing aggregate leave its variable unbound for the group instead of failing the query."""
    from rdflib.plugins.sparql.aggregates import Aggregator

    for accumulator in set(Aggregator.accumulator_classes.values()):
        if getattr(accumulator.update, "hardened", False):
            continue
        update, set_value = accumulator.update, accumulator.set_value

        def guarded_update(self, row, aggregator, _update=update):
            if getattr(self, "failed", False):
                return
            try:
                _update(self, row, aggregator)
            except (SPARQLError,) + EXPRESSION_FAILURES:
                self.failed = True

        def guarded_set_value(self, bindings, _set_value=set_value):
            if not getattr(self, "failed", False):
                _set_value(self, bindings)

        guarded_update.hardened = True
        accumulator.update = guarded_update
        accumulator.set_value = guarded_set_value


def harden() -> None:
    """Every repair of this module (idempotent)."""
    harden_expressions()
    harden_order_by()
    harden_aggregates()

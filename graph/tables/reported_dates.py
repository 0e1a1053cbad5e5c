"""Dates as pages write them, turned into typed literals and comparable days.

A reporting date ("as of") keeps the page's precision: ``2020-11-14`` is an xsd:date, ``2025-06``
(the month of a Wikipedia dump) an xsd:gYearMonth, ``1993`` an xsd:gYear. An event date written in
words ("February 27, 1988", "20 February 1988", "February 1988", "November 9 [2020] (signed)")
gives the first and last day it can mean, as xsd:date values that compare with any other, so that
``FILTER(?d > "2020-11-10"^^xsd:date)`` works for year-only and month-only dates too.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from rdflib import Literal
from rdflib.namespace import XSD

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}


def reporting_date(text: str) -> Literal:
    """``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` as an xsd:date, xsd:gYearMonth or xsd:gYear literal;
    a ValueError saying what is expected for anything else (or an impossible day)."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        try:
            date.fromisoformat(text)  # refuses 2021-02-30
        except ValueError:
            raise ValueError(f"{text!r} is not a day of the calendar") from None
        return Literal(text, datatype=XSD.date)
    if re.fullmatch(r"\d{4}-\d\d", text) and 1 <= int(text[5:]) <= 12:
        return Literal(text, datatype=XSD.gYearMonth)
    if re.fullmatch(r"\d{4}", text):
        return Literal(text, datatype=XSD.gYear)
    raise ValueError(f"{text!r} is not a date: expected YYYY-MM-DD, YYYY-MM or YYYY")


def _span(year: int, month: int | None = None, day: int | None = None) -> tuple[date, date]:
    if month is None:
        return date(year, 1, 1), date(year, 12, 31)
    if day is None:
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    return date(year, month, day), date(year, month, day)


def written_date_span(text: str) -> tuple[date, date] | None:
    """The first and last day a date written in words can mean; None for "present" or an empty
    text; a ValueError for a date it cannot read (so nothing is silently dropped)."""
    words = re.sub(r"\(.*?\)", " ", text).replace("[", " ").replace("]", " ").replace(",", " ")
    words = words.strip().lower()
    if not words or words.startswith("present"):
        return None
    tokens = words.split()
    numbers = [int(t) for t in tokens if t.isdigit()]
    months = [MONTHS[t] for t in tokens if t in MONTHS]
    years = [n for n in numbers if n > 31]
    days = [n for n in numbers if n <= 31]
    if len(years) != 1 or len(months) > 1 or len(days) > 1 or (days and not months):
        raise ValueError(f"cannot read the date {text!r}")
    return _span(years[0], months[0] if months else None, days[0] if days else None)


def date_literal(day: date) -> Literal:
    """A day as an xsd:date literal."""
    return Literal(day.isoformat(), datatype=XSD.date)


def plain_date(text: str) -> Literal | None:
    """The xsd:date (one day) or xsd:gYear (a whole year) a written date stands for, when it is one
    of those; None for a month or an unreadable text (month precision has no place in
    kkg:startDate, whose values are days or years)."""
    try:
        span = written_date_span(text)
    except ValueError:
        return None
    if span is None:
        return None
    first, last = span
    if first == last:
        return date_literal(first)
    if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31):
        return Literal(str(first.year), datatype=XSD.gYear)
    return None


def literal_span(value: Literal) -> tuple[date, date]:
    """The first and last day of an xsd:date, xsd:gYearMonth or xsd:gYear literal."""
    text = str(value)
    if value.datatype == XSD.date:
        day = date.fromisoformat(text)
        return day, day
    if value.datatype == XSD.gYearMonth:
        return _span(int(text[:4]), int(text[5:7]))
    if value.datatype == XSD.gYear:
        return _span(int(text))
    raise ValueError(f"{value!r} is not a typed date")

"""The project's one error type and its one shape.

Every failure a user can cause (bad Turtle, a shape violation, a bad query or parameter, a
refused request) is raised as a :class:`KkgError`. The command line prints it as text and exits
non-zero; the server turns it into an HTTP response with the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Location:
    """Where a problem is: a file (or "query"), a 1-based line and column when known."""

    source: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.source]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def to_dict(self) -> dict:
        """The location as JSON-ready fields (unknown parts left out)."""
        out: dict = {"source": self.source}
        if self.line is not None:
            out["line"] = self.line
        if self.column is not None:
            out["column"] = self.column
        return out


@dataclass
class KkgError(Exception):
    """A problem the user can act on: a message, a stable code, an HTTP status, and where it is."""

    message: str
    code: str = "bad-input"
    status: int = 400
    where: Location | None = None
    details: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        head = f"{self.where}: {self.message}" if self.where else self.message
        if not self.details:
            return head
        return head + "\n" + "\n".join(f"  {line}" for line in self.details)

    def to_dict(self) -> dict:
        """The one error shape, as JSON: ``{"error": code, "status", "message", "where"?, "details"?}``."""
        out: dict = {"error": self.code, "status": self.status, "message": self.message}
        if self.where:
            out["where"] = self.where.to_dict()
        if self.details:
            out["details"] = list(self.details)
        return out

    @classmethod
    def from_dict(cls, shape: dict, headers: dict[str, str] | None = None) -> "KkgError":
        """The error a :meth:`to_dict` shape describes (as a query worker sends it back through a
        pipe, with the response headers it asks for beside it)."""
        where = shape.get("where")
        return cls(shape["message"], code=shape["error"], status=shape["status"],
                   where=Location(**where) if where else None, details=list(shape.get("details", [])),
                   headers=dict(headers or {}))

"""Progress of long commands on a terminal; nothing in a pipe or a log.

``build``, ``generate``, ``push`` and ``export`` call :func:`step` (a stage begins) and
:func:`count` (so many done of about so many); the command line turns the display on with
:func:`show_on_terminal` only when standard error is a terminal, so scripts, pipes, CI logs and
library callers see nothing. On a terminal each report rewrites one status line (a carriage
return, no newline), cleared by :func:`finish` before the command prints its result.
"""

from __future__ import annotations

import sys
import time

_state = {"stream": None, "label": "", "started": 0.0, "last": 0.0, "width": 0}
_MIN_INTERVAL = 0.2  # seconds between two redraws of a count


def show_on_terminal(label: str, stream=None) -> bool:
    """Turn progress on for this process when ``stream`` (standard error) is a terminal; returns
    whether it is on."""
    stream = stream if stream is not None else sys.stderr
    try:
        on = stream.isatty()
    except (AttributeError, ValueError):
        on = False
    _state.update(stream=stream if on else None, label=label, started=time.monotonic(), last=0.0, width=0)
    return on


def active() -> bool:
    """True when progress is being shown."""
    return _state["stream"] is not None


def _draw(text: str) -> None:
    stream = _state["stream"]
    line = f"{_state['label']}: {text} ({time.monotonic() - _state['started']:.1f} s)"
    pad = max(0, _state["width"] - len(line))
    _state["width"] = len(line)
    try:
        stream.write("\r" + line + " " * pad)
        stream.flush()
    except (OSError, ValueError):
        _state["stream"] = None


def step(text: str) -> None:
    """A stage begins (``parsing 12 files``, ``writing``...)."""
    if _state["stream"] is not None:
        _draw(text)


def count(text: str, done: int, total: int | None = None) -> None:
    """So many of about ``total`` done (redrawn at most five times a second)."""
    if _state["stream"] is None:
        return
    now = time.monotonic()
    if now - _state["last"] < _MIN_INTERVAL and (total is None or done < total):
        return
    _state["last"] = now
    share = f" ({100 * done // total}%)" if total else ""
    _draw(f"{text} {done:,}" + (f" of {total:,}" if total else "") + share)


def finish() -> None:
    """Clear the status line (before the command prints its result); progress stays on."""
    stream = _state["stream"]
    if stream is not None and _state["width"]:
        try:
            stream.write("\r" + " " * _state["width"] + "\r")
            stream.flush()
        except (OSError, ValueError):
            pass
        _state["width"] = 0

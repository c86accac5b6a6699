"""Number formatting shared by the run report and the comparison report.

One place decides precision, so the same figure reads the same everywhere: rates and scores
with three decimals, counts with thousands separators, float drift (1e-7) in scientific
notation, durations in the unit that keeps them readable.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeGuard

from markupsafe import Markup, escape

MISSING = "—"


def is_number(value: Any) -> TypeGuard[float]:
    """True for finite ints and floats, never for bools (JSON true is not 1 here)."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def number(value: Any, digits: int = 3) -> str:
    """Sensible precision: ``12,345``, ``0.857``, ``2.38e-07``, ``—`` for missing.

    Parameters
    ----------
    value : object
        A number; ``None`` and non-finite values print as a dash, bools as yes/no, anything
        else as its text.
    digits : int, default 3
        Decimals for ordinary floats; smaller magnitudes switch to scientific notation.
    """
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if not isinstance(value, float):
        return str(value)
    if not math.isfinite(value):
        return MISSING
    if value == 0:
        return "0"
    if abs(value) < 10 ** -digits:
        return f"{value:.2e}"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def signed(value: Any, digits: int = 3) -> str:
    """A change, always with its sign, so +0.012 and -0.012 never read alike."""
    if not is_number(value):
        return MISSING
    if value == 0:
        return "±0"
    text = number(abs(value), digits)
    return ("+" if value > 0 else "−") + text


def interval(ci: Any, digits: int = 3) -> str:
    """``[0.121, 0.145]`` for a two-number interval, a dash otherwise."""
    if not isinstance(ci, list | tuple) or len(ci) != 2 or not all(map(is_number, ci)):
        return MISSING
    return f"[{number(float(ci[0]), digits)}, {number(float(ci[1]), digits)}]"


def duration(seconds: Any) -> str:
    """Seconds in the unit that suits them: ``812 µs``, ``3.41 ms``, ``2.50 s``."""
    if not is_number(seconds):
        return MISSING
    magnitude = abs(seconds)
    if magnitude == 0:
        return "0 s"
    if magnitude < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if magnitude < 1:
        return f"{seconds * 1e3:.3g} ms"
    if magnitude < 120:
        return f"{seconds:.3g} s"
    return f"{seconds / 60:.1f} min"


def percent(value: Any, digits: int = 1) -> str:
    """A share as a percentage: ``23.6 %``."""
    if not is_number(value):
        return MISSING
    return f"{100 * value:.{digits}f} %"


def sort_key(value: Any) -> str:
    """The raw value a sortable table column sorts by (numbers sort as numbers)."""
    if isinstance(value, bool):
        return str(int(value))
    if is_number(value):
        return repr(float(value))
    return "" if value is None else str(value)


def humanise(name: str) -> str:
    """``demographic_parity_difference`` -> ``demographic parity difference``."""
    return str(name).replace("_", " ")


def breakable_path(path: Any) -> Markup:
    """A dotted path that may wrap after each dot (escaped first: paths hold user data)."""
    return Markup("<wbr/>").join(escape(part) + "." for part in str(path).split(".")[:-1]) \
        + escape(str(path).split(".")[-1])


FILTERS: dict[str, Callable[..., str]] = {
    "number": number, "signed": signed, "interval": interval, "duration": duration,
    "percent": percent, "sort_key": sort_key, "humanise": humanise,
    "breakable_path": breakable_path}

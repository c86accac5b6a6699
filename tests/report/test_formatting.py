"""Number formatting shared by the run report and the comparison report."""

from __future__ import annotations

from twinaudit.report.formatting import duration, interval, number, signed


def test_number_formatting_is_sensible():
    assert number(12345) == "12,345"
    assert number(0.85553712) == "0.856"
    assert number(2.384185791015625e-07) == "2.38e-07"
    assert number(None) == "—" and number(float("nan")) == "—" and number(True) == "yes"
    assert signed(0.0123) == "+0.012" and signed(-0.5) == "−0.500" and signed(0.0) == "±0"
    assert interval([0.1, 0.25]) == "[0.100, 0.250]" and interval(None) == "—"
    assert duration(0.0042) == "4.2 ms" and duration(3e-6) == "3 µs" and duration(2.5) == "2.5 s"

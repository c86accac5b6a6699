"""The self-contained HTML report rendered from results.json."""

from twinaudit.report.render import render_report

__all__ = ["render_report"]

"""The self-contained HTML report rendered from results.json.

``render_report(results)`` is the entry point; ``render_page`` and ``template_environment``
are shared with :mod:`twinaudit.compare`, so both reports use one set of templates.
"""

from twinaudit.report.render import render_page, render_report, template_environment

__all__ = ["render_page", "render_report", "template_environment"]

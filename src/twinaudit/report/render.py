"""Render results.json into one self-contained HTML file (Jinja2, autoescape on).

The run report and the comparison report share this machinery: one Jinja environment, one
base template (styles, dark mode, print rules, the sortable-table script) and one set of
number filters, so both read alike and a fix lands in both.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable
from typing import Any

import jinja2
from markupsafe import Markup

from twinaudit.report.formatting import FILTERS
from twinaudit.report.views import (
    attribution_section,
    benchmarks_section,
    counterfactual_section,
    data_section,
    environment_section,
    fairness_section,
    implementations_matrix,
    mitigation_section,
    model_card_section,
    parity_section,
    privacy_section,
    task_notes,
    verdict_section,
)

#: Section ids and titles, in the order a reader needs them.
SECTIONS = (("verdict", "Verdict"), ("model-card", "Model card"), ("data", "Data"),
            ("parity", "Twin parity"), ("fairness", "Fairness"),
            ("counterfactual", "Counterfactual identity test"), ("mitigation", "Mitigation"),
            ("privacy", "Privacy"), ("attribution", "Attribution"), ("benchmarks", "Benchmarks"),
            ("environment", "Environment and reproducibility"))
#: Sections that only some kinds of network have: not listed as missing when absent.
_TASK_SPECIFIC = {"counterfactual"}
_VIEW_KEYS = {"model-card": "model_card"}


def _missing_as_none(function: Callable[..., str]) -> Callable[..., str]:
    """Filters see ``None`` for a field the results lack, so it prints as a dash."""
    @functools.wraps(function)
    def wrapper(value: Any, *args: Any) -> str:
        return function(None if isinstance(value, jinja2.Undefined) else value, *args)
    return wrapper


@functools.cache
def template_environment() -> jinja2.Environment:
    """The Jinja environment of both reports.

    Autoescape is on for every template: column names and category values come from users'
    data and must never become markup. Undefined fields chain to empty rather than raise,
    because results of older or partial runs must still render.
    """
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("twinaudit.report", "templates"),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update({name: _missing_as_none(f) for name, f in FILTERS.items()})
    return environment


@functools.cache
def _script() -> tuple[Markup, str]:
    """The inline sortable-table script and its CSP hash (only this exact script may run)."""
    environment = template_environment()
    assert environment.loader is not None  # template_environment sets its PackageLoader
    source = environment.loader.get_source(environment, "sortable.js")[0]
    digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode()
    if "<" in source or "&" in source:  # it would end the element or break XML parsing
        raise RuntimeError("sortable.js must not contain '<' or '&'")
    return Markup(source), f"sha256-{digest}"


def render_page(template: str, **context: Any) -> str:
    """Render one of the package's page templates with the shared script and policy."""
    script, script_hash = _script()
    return template_environment().get_template(template).render(
        script=script, script_hash=script_hash, **context)


def build_sections(results: dict) -> dict:
    """Every section's view, in report order; absent sections are ``None``."""
    fairness = fairness_section(results["fairness"]) if "fairness" in results else None
    return {
        "verdict": verdict_section(results, fairness),
        "model_card": model_card_section(results),
        "data": data_section(results),
        "parity": parity_section(results),
        "implementations": implementations_matrix(results, fairness),
        "fairness": fairness,
        "counterfactual": counterfactual_section(results),
        "task_notes": task_notes(results),
        "mitigation": mitigation_section(
            results.get("mitigation"), results.get("fairness"),
            (results.get("audit") or {}).get("spec", {}).get("mitigation")),
        "privacy": privacy_section(results),
        "attribution": attribution_section(results),
        "benchmarks": benchmarks_section(results),
        "environment": environment_section(results),
    }


def render_report(results: dict) -> str:
    """The HTML report of one run.

    Parameters
    ----------
    results : dict
        A parsed results.json. Sections appear only when their data is there (fairness,
        mitigation, attribution, benchmarks are optional); missing fields show as dashes.

    Returns
    -------
    str
        One self-contained HTML document: inline CSS, inline SVG charts, one small inline
        script (sortable tables); it requests nothing from the network or the disk.
    """
    sections = build_sections(results)
    present = [(id_, title) for id_, title in SECTIONS
               if sections[_VIEW_KEYS.get(id_, id_)] is not None]
    absent = [title.lower() for id_, title in SECTIONS
              if sections[_VIEW_KEYS.get(id_, id_)] is None and id_ not in _TASK_SPECIFIC]
    return render_page("report.html.j2", results=results, sections=sections, toc=present,
                       absent=absent)

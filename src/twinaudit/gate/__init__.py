"""The regression gate: rules over ``results.json``, judged against a baseline.

A gate run reads one results document, an optional baseline document (an earlier results
document promoted with :func:`promote_baseline`) and a rule set (TOML). Every rule addresses a
value by a path (see ``docs/gate.md``) and states a bound: absolute (``max``, ``min``,
``equals``), relative to the baseline (``max_drop``, ``max_increase``, ``max_increase_ci``) or a
timing bound judged with a bootstrap interval (``max_ratio``). Each rule expands into one
:class:`Check` per matched value; the :class:`GateReport` collects them and decides the exit
code.

The gate fails closed: a value a required rule names that is missing from the results (or, for
relative rules, from the baseline) is a failure, never a pass. Problems with the inputs
themselves (unreadable files, unknown rule keys, schema version mismatches) raise
:class:`GateInputError`, which the command line turns into exit code 2.

One concept per module; this package re-exports the public names:

- :mod:`twinaudit.gate.errors`: :class:`GateInputError`, :class:`Verdict`
- :mod:`twinaudit.gate.paths`: path syntax (:func:`parse_path`, :func:`format_path`) and
  :func:`resolve`
- :mod:`twinaudit.gate.rules`: :class:`Rule`, :func:`load_rules`, :func:`parse_rules`,
  :func:`default_rules_path` (the packaged set for a kind of run)
- :mod:`twinaudit.gate.checks`: :class:`Check`, :class:`GateReport`, exit codes
- :mod:`twinaudit.gate.timing`: :func:`bootstrap_ratio_of_medians` and ``max_ratio`` checks
- :mod:`twinaudit.gate.evaluation`: :func:`load_document`, :func:`check_document`,
  :func:`evaluate`
- :mod:`twinaudit.gate.output`: :func:`render_table`, :func:`render_markdown`,
  :func:`write_junit`
- :mod:`twinaudit.gate.baseline`: :func:`promote_baseline`

This package imports no deep-learning framework.
"""

from __future__ import annotations

from twinaudit.gate.baseline import promote_baseline
from twinaudit.gate.checks import EXIT_PASS, EXIT_REGRESSION, Check, GateReport
from twinaudit.gate.errors import GateInputError, Verdict
from twinaudit.gate.evaluation import (
    SUPPORTED_SCHEMA_VERSION,
    check_document,
    evaluate,
    load_document,
)
from twinaudit.gate.output import render_markdown, render_table, write_junit
from twinaudit.gate.paths import (
    AnyItem,
    Index,
    Key,
    Match,
    Resolution,
    Select,
    format_path,
    parse_path,
    resolve,
)
from twinaudit.gate.rules import (
    DEFAULT_RULES_PATH,
    PREDICTION_TABLE_RULES_PATH,
    Rule,
    default_rules_path,
    load_rules,
    parse_rules,
)
from twinaudit.gate.timing import bootstrap_ratio_of_medians
from twinaudit.results import RESULTS_KIND

__all__ = [
    "SUPPORTED_SCHEMA_VERSION",
    "RESULTS_KIND",
    "DEFAULT_RULES_PATH",
    "PREDICTION_TABLE_RULES_PATH",
    "EXIT_PASS",
    "EXIT_REGRESSION",
    "GateInputError",
    "Verdict",
    "Rule",
    "Check",
    "GateReport",
    "load_document",
    "default_rules_path",
    "load_rules",
    "parse_rules",
    "parse_path",
    "format_path",
    "resolve",
    "check_document",
    "Key",
    "Index",
    "AnyItem",
    "Select",
    "Match",
    "Resolution",
    "evaluate",
    "bootstrap_ratio_of_medians",
    "render_table",
    "render_markdown",
    "write_junit",
    "promote_baseline",
]

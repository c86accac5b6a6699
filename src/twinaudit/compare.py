"""``twinaudit compare``: two or more runs side by side, every shared metric with its delta.

The runs are walked together, key by key. A number present in every run becomes a metric row
(values, delta against the first run, and whether the confidence intervals overlap where the
results carry a ``ci`` beside the ``value``); text and flags that differ become a "settings
that differ" row; a subtree present in only some runs, or a value that is a number in one run
and text in another, is listed as not comparable — once, at the highest key where it happens,
not once per leaf beneath it. Runs of different schema versions or different audits are
compared all the same where their keys match, with a note saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from twinaudit.report.formatting import is_number
from twinaudit.report.tree import item_label

#: Subtrees that are bookkeeping or raw samples, not metrics: left out of the comparison.
SKIPPED_KEYS = frozenset({"history", "feature_names", "checkpoint", "values", "samples_s",
                          "reference_samples_s", "spec", "spec_file", "kind"})
LARGEST_CHANGES = 25


@dataclass
class _Collected:
    metrics: list[dict] = field(default_factory=list)
    differences: list[dict] = field(default_factory=list)
    not_comparable: list[dict] = field(default_factory=list)


def compare_runs(results: Sequence[dict], labels: Sequence[str]) -> dict:
    """Compare runs: every shared numeric metric with deltas and CI overlap.

    Parameters
    ----------
    results : sequence of dict
        Two or more parsed results.json documents; the first is the reference the deltas
        are taken against.
    labels : sequence of str
        A short, distinct name per run (file or folder name).

    Returns
    -------
    dict
        ``{"labels", "runs", "notes", "metrics", "differences", "not_comparable",
        "largest_changes", "counts"}``. Each metric is ``{"path", "section", "values",
        "cis", "deltas", "relative_deltas", "ci_overlap"}``, with one entry per run in
        ``values`` and ``cis`` and one per run after the first in the other three
        (``ci_overlap`` is ``None`` where either run has no interval).

    Raises
    ------
    ValueError
        With fewer than two runs, or labels that do not match the runs one to one.
    """
    if len(results) < 2:
        raise ValueError("compare needs at least two results files")
    if len(labels) != len(results) or len(set(labels)) != len(labels):
        raise ValueError("compare needs one distinct label per results file")
    collected = _Collected()
    _compare_nodes(list(results), "", list(labels), collected, cis=None)
    metrics = collected.metrics
    return {
        "labels": list(labels),
        "runs": [_run_summary(run, label) for run, label in zip(results, labels, strict=True)],
        "notes": _notes(results, labels),
        "metrics": metrics,
        "differences": collected.differences,
        "not_comparable": collected.not_comparable,
        "largest_changes": _largest_changes(metrics),
        "counts": {
            "metrics": len(metrics),
            "changed": sum(any(d not in (0, None) for d in m["deltas"]) for m in metrics),
            "ci_disjoint": sum(False in m["ci_overlap"] for m in metrics),
            "not_comparable": len(collected.not_comparable),
        },
    }


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _compare_nodes(nodes: list[Any], path: str, labels: list[str], out: _Collected,
                   cis: list[Any] | None) -> None:
    if all(isinstance(node, dict) for node in nodes):
        _compare_dicts(nodes, path, labels, out)
    elif all(isinstance(node, list) for node in nodes):
        _compare_lists(nodes, path, labels, out)
    elif all(is_number(node) for node in nodes):
        out.metrics.append(_metric_row(path, nodes, cis))
    elif all(node is None or isinstance(node, str | bool) for node in nodes):
        if any(node != nodes[0] for node in nodes):
            out.differences.append({"path": path, "section": _section(path), "values": nodes})
    else:
        kinds = ", ".join(f"{label}: {_kind(node)}"
                          for label, node in zip(labels, nodes, strict=True))
        out.not_comparable.append({"path": path, "reason": f"different kinds ({kinds})"})


def _compare_dicts(nodes: list[dict], path: str, labels: list[str], out: _Collected) -> None:
    keys = list(dict.fromkeys(key for node in nodes for key in node))
    for key in keys:
        if key in SKIPPED_KEYS or key == "ci":
            continue
        child_path = _join(path, key)
        present = [key in node for node in nodes]
        if not all(present):
            out.not_comparable.append({"path": child_path, "reason": _only_in(labels, present)})
            continue
        # An interval belongs to its point value: {"value": v, "ci": [low, high]}.
        cis = [node.get("ci") for node in nodes] if key in ("value", "ratio") else None
        _compare_nodes([node[key] for node in nodes], child_path, labels, out, cis)


def _compare_lists(nodes: list[list], path: str, labels: list[str], out: _Collected) -> None:
    """Items are matched by their identity fields (name, framework, seed), else position."""
    keyed = [{item_label(item, index): item for index, item in enumerate(node)}
             for node in nodes]
    for item_key in dict.fromkeys(k for items in keyed for k in items):
        child_path = f"{path}{item_key}"
        present = [item_key in items for items in keyed]
        if not all(present):
            out.not_comparable.append({"path": child_path, "reason": _only_in(labels, present)})
            continue
        _compare_nodes([items[item_key] for items in keyed], child_path, labels, out, None)


def _only_in(labels: list[str], present: list[bool]) -> str:
    return "only in " + ", ".join(label for label, here in zip(labels, present, strict=True)
                                if here)


def _kind(node: Any) -> str:
    if node is None:
        return "missing (null)"
    return {dict: "section", list: "list", str: "text", bool: "flag"}.get(type(node), "number")


def _section(path: str) -> str:
    """The top-level key a path lies under; top-level numbers themselves go under "run"."""
    if "." not in path and "[" not in path:
        return "run"
    return path.split(".", 1)[0].split("[", 1)[0]


def _interval(ci: Any) -> list[float] | None:
    if isinstance(ci, list) and len(ci) == 2 and all(map(is_number, ci)):
        return [float(ci[0]), float(ci[1])]
    return None


def _metric_row(path: str, values: list[int | float], cis: list[Any] | None) -> dict:
    intervals = [_interval(ci) for ci in cis] if cis else [None] * len(values)
    first, first_ci = values[0], intervals[0]
    deltas = [value - first for value in values[1:]]
    return {
        "path": path,
        "section": _section(path),
        "values": values,
        "cis": intervals,
        "deltas": deltas,
        "relative_deltas": [delta / abs(first) if first else None for delta in deltas],
        "ci_overlap": [None if first_ci is None or ci is None
                       else bool(ci[0] <= first_ci[1] and first_ci[0] <= ci[1])
                       for ci in intervals[1:]],
    }


def _largest_changes(metrics: list[dict]) -> list[dict]:
    """Disjoint intervals first, then the largest relative change: what a reader checks first."""
    def weight(metric: dict) -> tuple[bool, float]:
        relative = [abs(r) for r in metric["relative_deltas"] if r is not None]
        return (False in metric["ci_overlap"], max(relative, default=0.0))

    changed = [m for m in metrics if any(d != 0 for d in m["deltas"])]
    return sorted(changed, key=weight, reverse=True)[:LARGEST_CHANGES]


def _run_summary(run: dict, label: str) -> dict:
    # Each is the run's block where it is a dict (mypy cannot connect the two get calls), else {}.
    environment = (cast(dict, run.get("environment")) if isinstance(run.get("environment"), dict)
                   else {})
    audit = cast(dict, run.get("audit")) if isinstance(run.get("audit"), dict) else {}
    data = cast(dict, run.get("data")) if isinstance(run.get("data"), dict) else {}
    return {"label": label, "audit": audit.get("name"), "data": data.get("name"),
            "schema_version": run.get("schema_version"),
            "twinaudit_version": run.get("twinaudit_version"),
            "timestamp": environment.get("timestamp"), "git_sha": environment.get("git_sha"),
            "sections": [key for key, value in run.items() if isinstance(value, dict | list)
                         and key not in ("audit", "environment", "outputs")]}


def _notes(results: Sequence[dict], labels: Sequence[str]) -> list[str]:
    """Why some numbers may not mean the same thing across these runs."""
    notes = []
    for field_name, what in (("schema_version", "results schema versions"),
                             ("audit.name", "audits"), ("data.name", "data sets")):
        values = [_dotted(run, field_name) for run in results]
        if len(set(map(str, values))) > 1:
            listed = ", ".join(f"{label}: {value}"
                               for label, value in zip(labels, values, strict=True))
            notes.append(f"Different {what} ({listed}); numbers are compared where their "
                         "keys match, the rest is listed as not comparable.")
    return notes


def _dotted(tree: Any, path: str) -> Any:
    for key in path.split("."):
        tree = tree.get(key) if isinstance(tree, dict) else None
    return tree


def render_comparison(comparison: dict) -> str:
    """The HTML comparison report of :func:`compare_runs`'s result.

    Uses the run report's templates, styles and number filters, so both read alike; like the
    run report it is one self-contained file that requests nothing.
    """
    from twinaudit.report import render_page

    sections = list(dict.fromkeys(m["section"] for m in comparison["metrics"]))
    return render_page("compare.html.j2", comparison=comparison, sections=sections)


def run_labels(paths: Sequence[Path]) -> list[str]:
    """Short distinct labels: the file stem, or ``folder/file`` when stems repeat."""
    paths = [Path(p) for p in paths]
    labels = [p.stem for p in paths]
    if len(set(labels)) < len(labels):
        labels = [f"{p.parent.name}/{p.stem}" if p.parent.name else p.stem for p in paths]
    if len(set(labels)) < len(labels):
        labels = [f"{index + 1}: {label}" for index, label in enumerate(labels)]
    return labels


def write_comparison(paths: Sequence[Path], output: Path) -> Path:
    """Read results files, compare them and write the HTML comparison atomically.

    Parameters
    ----------
    paths : sequence of Path
        Two or more results.json files; the first is the reference.
    output : Path
        The HTML file to write.

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    twinaudit.errors.TwinauditError
        For a missing, unreadable or unsupported results file, or fewer than two.
    """
    from twinaudit.errors import TwinauditError
    from twinaudit.results import read_results, write_atomic

    if len(paths) < 2:
        raise TwinauditError("compare needs at least two results files")
    results = [read_results(Path(path)) for path in paths]
    comparison = compare_runs(results, run_labels(paths))
    return write_atomic(Path(output), render_comparison(comparison))

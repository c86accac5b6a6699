"""Mutated results.json through report, compare and gate: a one-line error or a result, never
a crash.

One small real run (module fixture) is mutated by hypothesis: a node replaced by a value of
another type, a key deleted, a garbage key added. Each command runs in this process through
the console entry point (``cli.main``, the error boundary) and must exit 0, 1 or 2 — never 70
(internal error) — and an exit 2 must be one line on stderr naming the mutated file. The same
mutations check that the reader's validator and jsonschema agree on what is valid.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twinaudit import cli
from twinaudit.results import to_json
from twinaudit.results.schema import json_schema
from twinaudit.results.validate import MAX_DEPTH, first_error, too_deep

from helpers import REPO
from report_helpers import full_results

#: A simplenet audit small enough to train in seconds, with every section a tabular run has.
TINY_AUDIT = """
[audit]
name = "tiny"

[data]
dataset = "simplenet"
sensitive_features = ["group"]
sensitive_as_inputs = false
max_train_rows = 300
max_test_rows = 200

[network]
hidden = [5]

[training]
seeds = [0, 1]
epochs = 2
batch_size = 64

[fairness]
group_sets = [["group"]]
privileged = { group = "A" }
n_resamples = 50

[mitigation]
reweigh_on = ["group"]

[attribution]
n_rows = 50
n_steps = 16
methods = ["integrated_gradients", "saliency"]
"""


def _deep_list(depth: int) -> list:
    node: list = []
    for _ in range(depth):
        node = [node]
    return node


#: What a node is replaced by: every JSON type, and lists nested past the reader's bound and
#: (within it) deep enough to trouble a recursive walk.
REPLACEMENTS = [None, 7, -1, "x", [], {}, True, [None, "x"], _deep_list(30), _deep_list(100)]
#: Garbage keys: odd names, and names the report's shape finder looks for.
GARBAGE_KEYS = ["zzz", "", "a.b", "line\nbreak", "torch", "0", "overall", "group_sets", "ci",
                "value", "rule"]


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> dict[str, Any]:
    """The run's results (with the committed baseline's benchmark rows, as ``twinaudit bench``
    takes minutes), that document as ``run.json``, and the places the mutations pick from."""
    from twinaudit.pipeline import run_audit
    from twinaudit.spec import load_spec

    folder = tmp_path_factory.mktemp("tiny")
    (folder / "tiny.toml").write_text(TINY_AUDIT)
    outcome = run_audit(load_spec(folder / "tiny.toml"), output_dir=folder / "out",
                        models_dir=folder / "models")
    run = json.loads(outcome.results_path.read_text())
    baseline = json.loads((REPO / "reports" / "baseline" / "adult.json").read_text())
    run["benchmarks"] = baseline["benchmarks"]
    original = folder / "run.json"
    original.write_text(to_json(run))
    return {"run": run, "paths": node_paths(run), "folder": folder, "original": original}


def node_paths(tree: Any, path: tuple = ()) -> list[tuple]:
    """The path (keys and indices) of every node below the top."""
    children = (tree.items() if isinstance(tree, dict)
                else enumerate(tree) if isinstance(tree, list) else ())
    found = []
    for key, child in children:
        found.append((*path, key))
        found.extend(node_paths(child, (*path, key)))
    return found


def _resolve(tree: Any, path: tuple) -> tuple[Any, Any] | None:
    """(parent, key) of ``path`` in ``tree``, or None once an earlier mutation removed it."""
    node = tree
    for key in path[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    if isinstance(node, dict) and path[-1] in node or \
            isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node):
        return node, path[-1]
    return None


#: A mutation plan: per mutation, a node (near the top, or anywhere: most nodes lie deep in
#: fairness audits), what to do, and which replacement value and garbage key. Hypothesis
#: draws (and on failure prints) the plan, never the large document.
PLANS = st.lists(st.tuples(st.booleans(), st.integers(0, 10**6),
                           st.sampled_from(["replace", "delete", "add"]),
                           st.integers(0, len(REPLACEMENTS) - 1),
                           st.integers(0, len(GARBAGE_KEYS) - 1)), min_size=1, max_size=3)


def mutated(base: dict, paths: list[tuple], plan: list[tuple]) -> tuple[dict, list[str]]:
    """A deep copy of ``base`` with the plan's mutations, and what they were."""
    document = copy.deepcopy(base)
    shallow = [path for path in paths if len(path) <= 2]
    done = []
    for near_top, pick, action, replacement, garbage in plan:
        candidates = shallow if near_top else paths
        path = candidates[pick % len(candidates)]
        found = _resolve(document, path)
        if found is None:
            continue
        parent, key = found
        value = copy.deepcopy(REPLACEMENTS[replacement])
        if action == "replace":
            parent[key] = value
            done.append(f"{_dotted(path)} = {_short(value)}")
        elif action == "delete":
            del parent[key]
            done.append(f"del {_dotted(path)}")
        elif isinstance(parent[key], dict):
            parent[key][GARBAGE_KEYS[garbage]] = value
            done.append(f"{_dotted(path)}[{GARBAGE_KEYS[garbage]!r}] = {_short(value)}")
    return document, done


def _dotted(path: tuple) -> str:
    return "$" + "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path)


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) < 30 else text[:27] + "..."


def twinaudit(*arguments: str | Path, crash_folder: Path) -> tuple[int, str, str]:
    """``twinaudit ARGUMENTS`` through the console entry point: (status, stdout, stderr).

    A crash file (exit 70) goes to ``crash_folder``, not the machine's temporary folder.
    """
    stdout, stderr = io.StringIO(), io.StringIO()
    argv = ["twinaudit", *map(str, arguments)]
    with mock.patch.object(sys, "argv", argv), mock.patch.object(
            tempfile, "tempdir", str(crash_folder)), contextlib.redirect_stdout(stdout), \
            contextlib.redirect_stderr(stderr), pytest.raises(SystemExit) as stopped:
        cli.main()
    code = stopped.value.code
    return code if isinstance(code, int) else 0 if code is None else 1, stdout.getvalue(), \
        stderr.getvalue()


def assert_handled(status: int, stdout: str, stderr: str, mutated_file: Path,
                   document: dict, mutations: list[str]) -> None:
    """Exit 0, 1 or 2, never a traceback; a document the schema refuses is exit 2 with the
    validator's line; any exit 2 is one line naming the mutated file."""
    where = f"mutations {mutations}: exit {status}, stderr {stderr!r}"
    assert status != cli.EXIT_INTERNAL_ERROR, where + _crash_detail(stderr)
    assert status in (0, 1, 2), where
    assert "Traceback" not in stdout + stderr, where
    error = first_error(document, json_schema())
    # The independent check, on every mutation of the real run too.
    assert (error is None) == jsonschema.Draft202012Validator(json_schema()).is_valid(
        document), where
    if error is not None:
        assert status == 2, where
        # Kind and version are checked (and worded) first, nesting depth next.
        if not error.startswith(("$.kind", "$.schema_version")) and \
                too_deep(document, MAX_DEPTH) is None:
            assert stderr == f"twinaudit: {mutated_file}: {error}\n", where
    if status == 2:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"twinaudit: {mutated_file}: "), where


def _crash_detail(stderr: str) -> str:
    """The traceback of the crash file the line names, for the failure message."""
    name = stderr.rsplit("details in ", 1)[-1].strip()
    path = Path(name)
    return "\n" + path.read_text() if name and path.is_file() else ""


FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.slow
def test_the_real_run_is_valid_under_both_validators(documents):
    assert first_error(documents["run"], json_schema()) is None
    jsonschema.Draft202012Validator(json_schema()).validate(documents["run"])


@pytest.mark.slow
def test_the_real_run_passes_report_compare_and_gate(documents, tmp_path):
    path = documents["original"]
    for arguments in (["report", path, "-o", tmp_path / "r.html"],
                      ["compare", path, path, "-o", tmp_path / "c.html"],
                      ["gate", path, "--baseline", path]):
        status, stdout, stderr = twinaudit(*arguments, crash_folder=tmp_path)
        assert status == 0, (arguments, stdout, stderr)


def fuzz_command(documents: dict, plan: list[tuple], command: list[str | Path]) -> None:
    """Mutate the run by ``plan``, write it to ``mutated.json``, run ``command`` (where the
    placeholder ``MUTATED`` stands for that file) and check how it ended."""
    document, mutations = mutated(documents["run"], documents["paths"], plan)
    folder = documents["folder"]
    path = folder / "mutated.json"
    # Written as twinaudit writes (to_json), so the file is plain JSON as a run leaves it.
    path.write_text(to_json(document))
    arguments = [path if argument == "MUTATED" else argument for argument in command]
    status, stdout, stderr = twinaudit(*arguments, crash_folder=folder)
    assert_handled(status, stdout, stderr, path, document, mutations)


@pytest.mark.slow
@FUZZ
@given(plan=PLANS)
def test_report_of_a_mutated_run_is_a_report_or_one_line(documents, plan):
    fuzz_command(documents, plan, ["report", "MUTATED", "-o",
                                   documents["folder"] / "report.html"])


@pytest.mark.slow
@FUZZ
@given(plan=PLANS)
def test_compare_with_a_mutated_run_is_a_comparison_or_one_line(documents, plan):
    fuzz_command(documents, plan, ["compare", documents["original"], "MUTATED", "-o",
                                   documents["folder"] / "compare.html"])


@pytest.mark.slow
@FUZZ
@given(plan=PLANS, as_baseline=st.booleans())
def test_gate_on_a_mutated_run_is_a_verdict_or_one_line(documents, plan, as_baseline):
    # The mutated file as the results, or as the baseline of the unmutated run.
    pair = [documents["original"], "MUTATED"]
    results, baseline = pair if as_baseline else pair[::-1]
    fuzz_command(documents, plan, ["gate", results, "--baseline", baseline, "--markdown",
                                   documents["folder"] / "gate.md"])


# --- the two validators agree (no command runs: fast, so many more examples) -----------------

@functools.cache
def hand_built() -> tuple[dict, list[tuple]]:
    """The report tests' document with every section, as read from JSON, and its paths."""
    document = json.loads(json.dumps(full_results(), allow_nan=False))
    return document, node_paths(document)


@pytest.mark.slow  # 50 mutated full documents (6 s)
@settings(max_examples=50, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plan=PLANS)
def test_both_validators_agree_on_mutated_documents(plan):
    document, mutations = mutated(*hand_built(), plan)
    mine = first_error(document, json_schema())
    theirs = jsonschema.Draft202012Validator(json_schema()).is_valid(document)
    assert (mine is None) == theirs, (mutations, mine)


# --- what the schema cannot prevent ---------------------------------------------------------


def test_a_seed_key_of_a_non_ascii_digit_is_reported_not_a_crash(tmp_path):
    document = copy.deepcopy(hand_built()[0])
    twins = document["fairness"]["twins"]["torch"]
    twins["²"] = twins.pop("0")
    path = tmp_path / "results.json"
    path.write_text(to_json(document))
    status, _, stderr = twinaudit("report", path, "-o", tmp_path / "r.html",
                                  crash_folder=tmp_path)
    # str.isdigit() is true for '²' and int() then fails: the views read seeds with
    # isdecimal(), so such a key is a name, not a number.
    assert status in (0, 2), stderr

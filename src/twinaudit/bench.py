"""``twinaudit bench``: run the twins' pytest-benchmark suite and merge it into results.json.

Each framework runs in its own pytest process, so neither framework's thread pools, imports
or allocator warm-up touch the other's timings. pytest-benchmark's own JSON stays beside
results.json; results.json gets a ``benchmarks`` section of plain rows that reports and the
gate read (docs/results-schema.md).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib import resources
from pathlib import Path

from twinaudit.errors import TwinauditError
from twinaudit.results import read_results, write_results
from twinaudit.spec import AuditSpec

SUITE_FILE = "test_twins.py"
PROFILES = ("quick", "full")


def packaged_suite() -> Path:
    """The folder of the suite shipped inside the package (twinaudit.benchmarks)."""
    return Path(str(resources.files("twinaudit.benchmarks")))


def run_benchmarks(spec: AuditSpec, *, profile: str = "quick", suite: Path | None = None,
                   results_path: Path | None = None, quiet: bool = False) -> Path:
    """Benchmark every framework of the audit and merge the rows into its results.json.

    Returns the path of the updated results file.
    """
    if profile not in PROFILES:
        raise TwinauditError(f"--profile {profile!r}: expected one of {', '.join(PROFILES)}")
    if spec.network.kind != "mlp":
        raise TwinauditError(
            f"{spec.source}: twinaudit bench measures MLP audits ([network] kind = \"mlp\"); "
            "the other networks are benchmarked by benchmarks/test_bench_networks.py")
    results_path = Path(results_path or spec.output_dir / "results.json")
    if not results_path.is_file():
        raise TwinauditError(f"{results_path}: no results to merge into (run 'twinaudit run "
                             f"{spec.source}' first)")
    suite_file = Path(suite or packaged_suite()) / SUITE_FILE
    if not suite_file.is_file():
        raise TwinauditError(f"{suite_file}: benchmark suite not found (expected the folder "
                             f"of {SUITE_FILE}; leave --suite out to use the packaged one)")
    results = read_results(results_path)
    outputs = []
    for framework in spec.training.frameworks:
        output = results_path.with_name(f"benchmarks-{framework}.json")
        _run_suite(suite_file, output, spec=spec, framework=framework, profile=profile,
                   quiet=quiet)
        outputs.append(output)
    results["benchmarks"] = {
        "profile": profile,
        "suite": str(suite_file),
        "machine": {"processor": results["environment"].get("processor"),
                    "cpu_count": os.cpu_count(), "platform": platform.platform()},
        "files": [path.name for path in outputs],
        "rows": benchmark_rows([json.loads(path.read_text()) for path in outputs]),
    }
    return write_results(results_path, results)


def _run_suite(suite_file: Path, output: Path, *, spec: AuditSpec, framework: str,
               profile: str, quiet: bool) -> None:
    environment = {**os.environ, "TWINAUDIT_BENCH_FRAMEWORKS": framework,
                   "TWINAUDIT_BENCH_AUDIT": str(spec.source.resolve()),
                   "TWINAUDIT_BENCH_PROFILE": profile}
    from twinaudit.frameworks import keras_backend_of

    backend = keras_backend_of(framework)
    if backend is not None:
        # Its own process on its backend: keras[jax] is timed against model.fit on JAX.
        environment["KERAS_BACKEND"] = backend
    command = [sys.executable, "-m", "pytest", str(suite_file), "--benchmark-only",
               f"--benchmark-json={output}", "--benchmark-save-data", "-q",
               "-p", "no:cacheprovider", "--rootdir", str(suite_file.parent),
               # The suite's own settings only, whatever configuration surrounds it.
               "-o", "addopts=", "-o", "testpaths=", "-o", "python_files=test_*.py"]
    completed = subprocess.run(command, env=environment, capture_output=quiet, text=True,
                               check=False)
    if completed.returncode != 0:
        detail = (completed.stdout or "").strip().splitlines()[-1:] if quiet else []
        raise TwinauditError(f"{suite_file}: the {framework} benchmarks failed "
                             f"(pytest exit {completed.returncode}"
                             f"{': ' + detail[0] if detail else ''})")


def benchmark_rows(documents: list[dict]) -> list[dict]:
    """Flatten pytest-benchmark JSON documents into rows; pair each twin with its reference.

    A row whose test also ran a plain implementation (same test, same framework) carries that
    reference's samples and the ratio of medians, so speed is judged against a baseline
    measured in the same process, minutes apart at most.
    """
    rows = []
    for document in documents:
        for entry in document.get("benchmarks", []):
            stats, info = entry["stats"], dict(entry.get("extra_info", {}))
            rows.append({
                "name": entry["name"].split("[")[0].removeprefix("test_"),
                "group": entry.get("group"),
                "framework": info.pop("framework", None),
                "implementation": info.pop("implementation", None),
                "median_s": stats["median"],
                "mean_s": stats["mean"],
                "min_s": stats["min"],
                "max_s": stats["max"],
                "rounds": stats["rounds"],
                "samples_s": stats.get("data", []),
                **info,
            })
    plain = {(row["name"], row["framework"]): row for row in rows
             if row["implementation"] == "plain"}
    for row in rows:
        reference = plain.get((row["name"], row["framework"]))
        if row["implementation"] == "twin" and reference is not None:
            row["reference"] = f"plain {row['framework']}"
            row["reference_median_s"] = reference["median_s"]
            row["reference_samples_s"] = reference["samples_s"]
            row["ratio"] = row["median_s"] / reference["median_s"]
    return rows

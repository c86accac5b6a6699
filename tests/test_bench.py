"""`twinaudit bench`: pytest-benchmark documents become rows; twins pair with their reference."""

import pytest

from twinaudit.bench import benchmark_rows, run_benchmarks
from twinaudit.errors import TwinauditError
from twinaudit.spec import spec_from_dict


def entry(name, framework, implementation, samples, **extra):
    ordered = sorted(samples)
    return {
        "name": f"test_{name}[{implementation}-{framework}]" if implementation == "plain"
        else f"test_{name}[{framework}]",
        "group": name,
        "stats": {"median": ordered[len(ordered) // 2], "mean": sum(samples) / len(samples),
                  "min": ordered[0], "max": ordered[-1], "rounds": len(samples),
                  "data": samples},
        "extra_info": {"framework": framework, "implementation": implementation, **extra},
    }


def test_rows_pair_each_twin_with_its_plain_reference():
    document = {"benchmarks": [
        entry("train", "torch", "twin", [1.0, 1.2, 1.1], accuracy=0.85),
        entry("train", "torch", "plain", [2.0, 2.2, 2.1]),
        entry("epoch", "torch", "twin", [0.5, 0.4, 0.6]),
    ]}
    other = {"benchmarks": [entry("train", "keras", "twin", [3.0, 3.0, 3.0])]}
    rows = benchmark_rows([document, other])
    train = next(r for r in rows if r["name"] == "train" and r["implementation"] == "twin"
                 and r["framework"] == "torch")
    assert train["median_s"] == 1.1 and train["reference_median_s"] == 2.1
    assert train["ratio"] == pytest.approx(1.1 / 2.1)
    assert train["samples_s"] == [1.0, 1.2, 1.1]
    assert train["reference_samples_s"] == [2.0, 2.2, 2.1]
    assert train["accuracy"] == 0.85
    epoch = next(r for r in rows if r["name"] == "epoch")
    assert "ratio" not in epoch  # no plain reference was measured for it
    keras = next(r for r in rows if r["framework"] == "keras")
    assert "reference" not in keras  # torch's plain loop is not keras' reference


def test_bench_needs_a_results_file_and_a_suite(tmp_path):
    spec = spec_from_dict({"audit": {"name": "b", "output_dir": str(tmp_path / "out")},
                           "data": {"dataset": "adult"}}, source=tmp_path / "b.toml")
    with pytest.raises(TwinauditError, match="run 'twinaudit run"):
        run_benchmarks(spec, suite=tmp_path)
    with pytest.raises(TwinauditError, match="--profile 'slow'"):
        run_benchmarks(spec, profile="slow")


def test_bench_refuses_networks_its_suite_does_not_measure(tmp_path):
    spec = spec_from_dict({"audit": {"name": "d"}, "data": {"dataset": "digits"},
                           "network": {"kind": "cnn"}, "audits": {"mitigation": False}},
                          source=tmp_path / "d.toml")
    with pytest.raises(TwinauditError, match="test_bench_networks.py"):
        run_benchmarks(spec)


@pytest.mark.slow
def test_bench_runs_the_packaged_suite_from_a_folder_outside_any_checkout(tmp_path):
    # A user's own project: an audit, nothing of this repository (no benchmarks/ folder).
    import json
    import subprocess
    import sys

    from helpers import write_small_audit

    audit = write_small_audit(tmp_path, name="outside", train_rows=400, test_rows=200,
                              seeds="[0]", epochs=1)
    twinaudit = [sys.executable, "-m", "twinaudit.cli"]
    subprocess.run([*twinaudit, "run", audit.name, "--quiet"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=600)
    completed = subprocess.run([*twinaudit, "bench", audit.name, "--profile", "quick",
                                "--quiet"], cwd=tmp_path, capture_output=True, text=True,
                               timeout=900, check=False)
    assert completed.returncode == 0, completed.stderr
    results = json.loads((tmp_path / "reports" / "outside" / "results.json").read_text())
    rows = results["benchmarks"]["rows"]
    assert {row["framework"] for row in rows} == set(spec_from_dict(
        {"audit": {"name": "x"}, "data": {"dataset": "adult"}}, source=audit).training.frameworks)
    assert "site-packages" in results["benchmarks"]["suite"] or "src/twinaudit/benchmarks" in \
        results["benchmarks"]["suite"]
    assert all(row["ratio"] > 0 for row in rows if "ratio" in row)

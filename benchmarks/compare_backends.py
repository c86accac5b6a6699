"""Each Keras backend's twin against that backend's own ``model.fit``, and the backends
against each other, for full training of every reference network.

    python benchmarks/compare_backends.py [--backends tensorflow jax] [--json FILE]

Per backend, one pytest-benchmark process with ``KERAS_BACKEND`` set runs the training
benchmarks of ``benchmarks/test_bench_networks.py`` (SimpleNet, digits CNN, sentiment LSTM,
autoencoder) and of the packaged suite (the Adult MLP) for ``keras[<backend>]``: the twin and
Keras ``compile`` + ``fit`` on the same layers, data, epochs and initial weights, side by
side in that process. ``twin / fit`` is the ratio of their medians (target ≤ 1.15); the
backend columns divide each backend's medians by the first backend's, measured in processes
run one after the other on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
SUITES = [REPOSITORY / "benchmarks" / "test_bench_networks.py",
          REPOSITORY / "src" / "twinaudit" / "benchmarks" / "test_twins.py"]


def measure(backend: str, output: Path) -> dict[str, dict[str, float]]:
    """``{network: {"twin": median_s, "fit": median_s}}`` for Keras on ``backend``."""
    environment = {**os.environ, "KERAS_BACKEND": backend,
                   "TWINAUDIT_BENCH_FRAMEWORKS": f"keras[{backend}]",
                   "TWINAUDIT_BENCH_AUDIT": str(REPOSITORY / "audits" / "adult.toml")}
    medians: dict[str, dict[str, float]] = {}
    for suite in SUITES:
        result = output.with_name(f"{output.stem}-{backend}-{suite.stem}.json")
        subprocess.run([sys.executable, "-m", "pytest", str(suite), "-k", "test_train and not step",
                        "--benchmark-only", f"--benchmark-json={result}", "-q",
                        "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(suite.parent)],
                       env=environment, check=True, cwd=REPOSITORY)
        for entry in json.loads(result.read_text())["benchmarks"]:
            info = entry["extra_info"]
            network = info.get("network", "adult")
            implementation = "twin" if info["implementation"] == "twin" else "fit"
            medians.setdefault(network, {})[implementation] = entry["stats"]["median"]
    return medians


def table(by_backend: dict[str, dict[str, dict[str, float]]]) -> list[dict]:
    reference = next(iter(by_backend))
    rows = []
    for backend, medians in by_backend.items():
        for network, times in medians.items():
            base = by_backend[reference][network]
            rows.append({"network": network, "backend": backend,
                         "twin_s": times["twin"], "fit_s": times["fit"],
                         "twin_over_fit": times["twin"] / times["fit"],
                         f"twin_over_{reference}_twin": times["twin"] / base["twin"],
                         f"fit_over_{reference}_fit": times["fit"] / base["fit"]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"])
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        by_backend = {backend: measure(backend, Path(folder) / "bench.json")
                      for backend in args.backends}
    rows = table(by_backend)
    reference = args.backends[0]
    print(f"\n{'network':<12}{'backend':<12}{'twin s':>9}{'fit s':>9}{'twin/fit':>10}"
          f"{'twin/' + reference[:2]:>10}{'fit/' + reference[:2]:>10}")
    for row in rows:
        print(f"{row['network']:<12}{row['backend']:<12}{row['twin_s']:>9.2f}{row['fit_s']:>9.2f}"
              f"{row['twin_over_fit']:>10.2f}{row[f'twin_over_{reference}_twin']:>10.2f}"
              f"{row[f'fit_over_{reference}_fit']:>10.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()

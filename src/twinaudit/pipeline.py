"""``twinaudit run``: one audit definition in, results.json + predictions + report out.

Order matters for the "nothing half-written" promise: the spec and the data are validated
before any training, and every output is written atomically at the very end.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from twinaudit import __version__
from twinaudit.data import Dataset, load_dataset
from twinaudit.nets import MLPSpec
from twinaudit.results import RESULTS_KIND, SCHEMA_VERSION, environment, write_atomic, \
    write_results
from twinaudit.spec import AuditSpec
from twinaudit.train import EpochRecord, Schedule
from twinaudit.twins import Twin, twin_class

ProgressCallback = Callable[[str, int, EpochRecord], None]


@dataclass(frozen=True)
class RunOutcome:
    results_path: Path
    predictions_path: Path
    report_path: Path
    results: dict


def train_twins(spec: AuditSpec, dataset: Dataset, *, sample_weight: np.ndarray | None = None,
                progress: ProgressCallback | None = None) -> dict[tuple[str, int], Twin]:
    """Fit one twin per (framework, seed), all from the same network spec and schedule."""
    network = MLPSpec.from_section(spec.network, n_inputs=dataset.train.X.shape[1])
    schedule = Schedule.from_section(spec.training)
    twins = {}
    for seed in spec.training.seeds:
        for framework in spec.training.frameworks:
            twin = twin_class(framework)(network, schedule, random_state=seed)

            def on_epoch(record: EpochRecord, framework=framework, seed=seed) -> None:
                if progress is not None:
                    progress(framework, seed, record)

            twin.fit(dataset.train.X, dataset.train.y, sample_weight,
                     validation=(dataset.validation.X, dataset.validation.y), on_epoch=on_epoch)
            twins[(framework, seed)] = twin
    return twins


def predictions_frame(twins: dict[tuple[str, int], Twin], dataset: Dataset) -> pd.DataFrame:
    """Per-row test predictions of every twin, with the sensitive features beside them."""
    test = dataset.test
    frames = []
    for (framework, seed), twin in twins.items():
        score = twin.predict_proba(test.X)[:, 1]
        frame = pd.DataFrame({
            "row_id": test.row_id, "framework": framework, "seed": seed, "y_true": test.y,
            "score": score, "y_pred": (score >= 0.5).astype(np.int64),
        })
        frames.append(pd.concat([frame, test.sensitive_features], axis=1))
    return pd.concat(frames, ignore_index=True)


def twin_summaries(twins: dict[tuple[str, int], Twin], dataset: Dataset,
                   checkpoints: dict[tuple[str, int], Path]) -> list[dict]:
    summaries = []
    for (framework, seed), twin in twins.items():
        history = twin.history_
        summaries.append({
            "framework": framework,
            "seed": seed,
            "test_accuracy": float((twin.predict(dataset.test.X) == dataset.test.y).mean()),
            "epochs_run": len(history["epochs"]),
            "best_epoch": history["best_epoch"],
            "train_seconds": history["train_seconds"],
            "history": history["epochs"],
            "checkpoint": str(checkpoints[(framework, seed)]),
        })
    return summaries


def run_audit(spec: AuditSpec, *, output_dir: Path | None = None,
              models_dir: Path | None = None, progress: ProgressCallback | None = None,
              command: str | None = None) -> RunOutcome:
    """Run every audit the spec enables and write results.json, predictions and the report."""
    started = time.perf_counter()
    output_dir = Path(output_dir or spec.output_dir)
    models_dir = Path(models_dir or spec.models_dir)
    dataset = load_dataset(spec)
    network = MLPSpec.from_section(spec.network, n_inputs=dataset.train.X.shape[1])
    schedule = Schedule.from_section(spec.training)

    twins = train_twins(spec, dataset, progress=progress)
    checkpoints = {key: twin.save(models_dir / key[0] / f"seed{key[1]}")
                   for key, twin in twins.items()}

    results = {
        "schema_version": SCHEMA_VERSION,
        "kind": RESULTS_KIND,
        "twinaudit_version": __version__,
        "audit": {"name": spec.audit.name, "description": spec.audit.description,
                  "spec_file": str(spec.source), "spec": spec.to_dict(),
                  "command": command or " ".join(sys.argv)},
        "environment": environment(seeds=spec.training.seeds,
                                   frameworks=spec.training.frameworks),
        "data": dataset.summary(),
        "network": {"kind": spec.network.kind, **vars(network), "hidden": list(network.hidden),
                    "n_parameters": int(sum(np.prod(s) for s in
                                            network.parameter_shapes().values()))},
        "training": vars(schedule),
        "twins": twin_summaries(twins, dataset, checkpoints),
        "outputs": {"predictions": "predictions.parquet", "report": "report.html"},
    }
    both = set(spec.training.frameworks) == {"torch", "keras"}
    if spec.audits.parity and both:
        from twinaudit.audits.parity import parity_audit

        results["parity"] = parity_audit(
            twins, network=network, schedule=schedule,
            train=(dataset.train.X, dataset.train.y,
                   np.ones(len(dataset.train.y), dtype=np.float32)),
            test=(dataset.test.X, dataset.test.y),
        )
    results["run_seconds"] = time.perf_counter() - started

    from twinaudit.report import render_report

    buffer = io.BytesIO()
    predictions_frame(twins, dataset).to_parquet(buffer, index=False)
    predictions_path = write_atomic(output_dir / "predictions.parquet", buffer.getvalue())
    report_path = write_atomic(output_dir / "report.html", render_report(results))
    results_path = write_results(output_dir / "results.json", results)
    return RunOutcome(results_path, predictions_path, report_path, results)

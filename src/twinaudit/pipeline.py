"""``twinaudit run``: one audit definition in, results.json + predictions + report out.

Order matters for the "nothing half-written" promise: the spec and the data are validated
before any training, the output folders are locked before training starts, and every output
(checkpoints included) is written into staging folders that are swapped in whole at the very
end (:mod:`twinaudit.outputs`).
"""

from __future__ import annotations

import glob
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from twinaudit import __version__
from twinaudit.data import Dataset, load_dataset
from twinaudit.engine import Engine, Execution, Progress, open_engine
from twinaudit.errors import TwinauditError
from twinaudit.fairness.by_twin import audit_settings, fairness_by_twin, fairness_of_counts
from twinaudit.fairness.mitigation import check_thresholds_possible
from twinaudit.fairness.multiplicity import flag_run
from twinaudit.families import Family, family_of
from twinaudit.frameworks import Twin, check_installed, thread_limit
from twinaudit.frameworks import environment as framework_environment
from twinaudit.frameworks.cache import CACHE_FOLDER, SectionCache, TwinCache, fingerprint
from twinaudit.frameworks.schedule import Schedule
from twinaudit.mitigations import Mitigations
from twinaudit.nets import RECONSTRUCTION, Network, network_to_dict
from twinaudit.outputs import OutputSet
from twinaudit.privacy.audit import PrivacyAudit, dp_variant
from twinaudit.results import RESULTS_KIND, SCHEMA_VERSION, environment, write_atomic, write_results
from twinaudit.spec import AuditSpec
from twinaudit.variants import (
    Stage,
    predictions_frame,
    submit_parity,
    submit_training,
    training_data,
    twin_summaries,
)
from twinaudit.vocabulary import IMPLEMENTATIONS


@dataclass(frozen=True)
class RunOutcome:
    results_path: Path
    predictions_path: Path
    report_path: Path
    results: dict


def network_for(spec: AuditSpec, dataset: Dataset) -> Network:
    """The audit's network, sized to its data set by its family."""
    return family_of(spec.network.kind).network(spec.network, dataset)


def run_audit(spec: AuditSpec, *, output_dir: Path | None = None,
              models_dir: Path | None = None, command: str | None = None,
              on_warning: Callable[[str], None] | None = None,
              use_cache: bool = True, run: Execution | None = None,
              progress: Progress | None = None) -> RunOutcome:
    """Run every audit the spec enables and write results.json, predictions and the report.

    ``on_warning`` hears each data warning (an ID-like column, a likely leak ...) as soon as
    the data are read, before any training; all of them are in results.json and the report.
    ``use_cache=False`` trains every twin even where the models folder's twin cache holds it
    (:mod:`twinaudit.frameworks.cache`). ``run`` says where the tasks execute (default: in
    this process; :mod:`twinaudit.engine`); ``progress`` hears of each task.
    """
    started = time.perf_counter()
    output_dir = Path(output_dir or spec.output_dir)
    if spec.data.dataset == "predictions":
        return _prediction_table_run(spec, output_dir, command=command, started=started,
                                     run=run or Execution(0), progress=progress)
    models_dir = Path(models_dir or spec.models_dir)
    check_installed(spec.training.frameworks, spec.source)
    dataset = load_dataset(spec)
    check_groups(spec, dataset)
    for warning in dataset.info.get("warnings", []):
        if on_warning is not None:
            on_warning(warning["message"])
    # Taken before any training: a second run into the same folders stops here.
    with OutputSet({output_dir: OUTPUT_FILES, models_dir: checkpoint_files()}) as outputs:
        models = outputs.staging(models_dir)
        cache = TwinCache(models_dir / CACHE_FOLDER if use_cache else None,
                          models / CACHE_FOLDER)
        with open_engine(run or Execution(0), progress) as engine:
            results, predictions = _audit(spec, dataset, models=models,
                                          models_dir=models_dir, command=command,
                                          started=started, cache=cache, engine=engine)
        _write_outputs(outputs.staging(output_dir), results, predictions)
        outputs.commit()
    return RunOutcome(output_dir / "results.json", output_dir / "predictions.parquet",
                      output_dir / "report.html", results)


def _prediction_table_run(spec: AuditSpec, output_dir: Path, *, command: str | None,
                          started: float, run: Execution,
                          progress: Progress | None) -> RunOutcome:
    """``[data] dataset = "predictions"``: the fairness audit of predictions made elsewhere.

    Nothing is trained and no framework is imported; the one "model" is the table's. The
    outputs are those of a run (results.json, predictions.parquet, report.html), so compare
    and gate read them as they read any run. A partitioned table (a folder or a glob of
    parquet files, :mod:`twinaudit.data.partitioned`) is read as counts on the engine, and
    its summed count table is written as ``counts.parquet`` in place of the rows.
    """
    from twinaudit.data.partitioned import is_partitioned
    from twinaudit.data.predictions import MODEL

    results: dict[str, Any] = _header(spec, command, frameworks=[], seeds=[])
    fairness: dict[str, Any] = {}
    if is_partitioned(spec.resolve(spec.data.path)):
        from twinaudit.data.partitioned import (
            check_partitioned,
            count_predictions,
            partition_files,
        )

        files = partition_files(spec.resolve(spec.data.path))
        check_partitioned(spec, files)  # each file's footer, before any engine starts
        with open_engine(run, progress) as engine:
            counted = count_predictions(spec, files, engine)
            results["execution"] = engine.describe()
        favourable, written, name = counted.favourable_label, counted.table, COUNTS_FILE
        results["data"] = counted.summary
        if spec.audits.fairness:
            fairness = fairness_of_counts(counted, spec, MODEL)
    else:
        from twinaudit.data.predictions import load_predictions

        table = load_predictions(spec)
        written = table.frame.assign(variant="baseline", framework=MODEL, seed=0)
        favourable, name = table.favourable_label, "predictions.parquet"
        results["data"] = table.summary
        if spec.audits.fairness:
            fairness = fairness_by_twin(written, spec, table.has_scores,
                                        favourable=favourable)
    results["outputs"] = {"counts" if name == COUNTS_FILE else "predictions": name,
                          "report": "report.html"}
    if spec.audits.fairness:
        results["fairness"] = {
            "settings": {**audit_settings(spec, favourable=favourable),
                         "threshold": spec.data.threshold}, **fairness}
        flag_run({"baseline": results["fairness"]}, spec.fairness.multiplicity,
                 1 - spec.fairness.confidence)
    with OutputSet({output_dir: OUTPUT_FILES}) as outputs:
        results["run_seconds"] = time.perf_counter() - started
        _write_outputs(outputs.staging(output_dir), results, [written], table_name=name)
        outputs.commit()
    return RunOutcome(output_dir / "results.json", output_dir / name,
                      output_dir / "report.html", results)


#: What a partitioned prediction-table run writes in place of its rows: the summed counts.
COUNTS_FILE = "counts.parquet"


def _write_outputs(staged: Path, results: dict, predictions: list[pd.DataFrame], *,
                   table_name: str = "predictions.parquet") -> None:
    from twinaudit.report import render_report

    buffer = io.BytesIO()
    pd.concat(predictions, ignore_index=True).to_parquet(buffer, index=False)
    write_atomic(staged / table_name, buffer.getvalue())
    write_atomic(staged / "report.html", render_report(results))
    write_results(staged / "results.json", results)


def _header(spec: AuditSpec, command: str | None, *, frameworks: list[str],
            seeds: list[int]) -> dict[str, Any]:
    """What every results.json begins with: what wrote it, which audit, on what machine."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": RESULTS_KIND,
        "twinaudit_version": __version__,
        "audit": {"name": spec.audit.name, "description": spec.audit.description,
                  "spec_file": str(spec.source), "spec": spec.to_dict(),
                  "command": command or " ".join(sys.argv)},
        "environment": environment(
            seeds=seeds, frameworks=frameworks,
            framework_settings=framework_environment(frameworks) if frameworks else None,
            audit_folder=spec.source.parent),
    }


#: What a run (and the commands that add to its folder) write into its output folder.
OUTPUT_FILES = ("results.json", "predictions.parquet", "counts.parquet", "report.html",
                "benchmarks-*.json", "gate-*", "*.xml", "*.md", ".benchmarks")


def checkpoint_files() -> tuple[str, ...]:
    """What a run writes into its models folder: one folder per implementation (``keras[jax]``
    escaped: these are glob patterns), and the cache."""
    return (*(glob.escape(name) for name in IMPLEMENTATIONS), CACHE_FOLDER)


def _audit(spec: AuditSpec, dataset: Dataset, *, models: Path, models_dir: Path,
           command: str | None, started: float, cache: TwinCache,
           engine: Engine) -> tuple[dict, list[pd.DataFrame]]:
    """Train the twins (checkpoints into ``models``, recorded under ``models_dir``, where they
    will be once the run's outputs are swapped in) and run every enabled audit."""
    family = family_of(spec.network.kind)
    network = family.network(spec.network, dataset)
    schedule = Schedule.from_section(spec.training)

    # Every twin is submitted now, the mitigations' too: the engine trains them side by side.
    data = training_data(dataset)
    sections = SectionCache(cache, spec.to_dict(), fingerprint(
        *data, dataset.test.X, dataset.test.y, dataset.train.sensitive_features.to_numpy(str),
        dataset.test.sensitive_features.to_numpy(str)))
    stage = Stage(spec, dataset, network, schedule, family, engine, data, cache, sections)
    # Checked before any training: an impossible mitigation (a (group, label) cell with no
    # rows) or privacy budget stops the run here.
    mitigations = Mitigations(stage) if spec.audits.mitigation else None
    privacy = PrivacyAudit(stage) if spec.audits.privacy else None
    baseline = submit_training(engine, spec, data, network, schedule, cache=cache)
    for later in (mitigations, privacy):
        if later is not None:
            later.submit()
    twins = baseline()
    checkpoints = {key: models_dir / twin.save(models / key[0] / f"seed{key[1]}").relative_to(
        models) for key, twin in twins.items()}
    thresholds = None
    if network.task is RECONSTRUCTION:
        thresholds = {key: RECONSTRUCTION.flag_threshold(twin, dataset.validation.X,
                                                         spec.fairness.flag_quantile)
                      for key, twin in twins.items()}
    predictions = [predictions_frame(twins, dataset.test, threshold=spec.data.threshold,
                                     thresholds=thresholds)]

    results: dict[str, Any] = {
        **_header(spec, command, frameworks=spec.training.frameworks,
                  seeds=spec.training.seeds),
        "data": dataset.summary(),
        "network": {"kind": spec.network.kind, **network_to_dict(network),
                    "n_parameters": network.n_parameters},
        "training": {**vars(schedule), "torch_threads": spec.training.threads},
        "twins": twin_summaries(twins, dataset, checkpoints),
        "outputs": {"predictions": "predictions.parquet", "report": "report.html"},
    }
    if spec.audits.parity and len(spec.training.frameworks) >= 2:
        # A task: it runs beside the fairness audit below, and is collected where it goes.
        parity = submit_parity(engine, spec, twins, data, None, dataset, network, schedule,
                               settings=spec.parity, sections=sections)
        results["parity"] = {}
    if spec.audits.fairness:
        favourable = dataset.favourable_label
        results["fairness"] = {"settings": {**audit_settings(spec, favourable=favourable),
                                            "threshold": spec.data.threshold},
                               **fairness_by_twin(predictions[0], spec, family.calibrated_scores,
                                                  favourable=favourable, engine=engine)}
        outcome = network.task.outcome_note(dataset.n_classes)
        if outcome is not None:
            results["fairness"]["outcome"] = outcome
    if thresholds is not None:
        results["anomaly"] = {
            "flag_quantile": spec.fairness.flag_quantile,
            "thresholds": [{"framework": framework, "seed": seed, "threshold": threshold}
                           for (framework, seed), threshold in thresholds.items()],
        }
    if spec.audits.counterfactual and family.counterfactual:
        from twinaudit.audits.counterfactual import counterfactual_audit

        results["counterfactual"] = counterfactual_audit(
            twins, dataset.tokenizer, n_resamples=spec.fairness.n_resamples,
            confidence=spec.fairness.confidence, random_state=spec.fairness.bootstrap_seed,
            margin=spec.parity.margins_with_defaults["disparity"], alpha=spec.parity.alpha)
    if spec.audits.attribution:
        key = sections.key("attribution", twins.values())
        attribution = sections.load(key)
        if attribution is None:
            attribution = run_attribution(spec, dataset, twins, family, engine)
            sections.store(key, attribution)
        results["attribution"] = attribution
    if mitigations is not None:
        results["mitigation"], tables = mitigations.finish(twins, results)
        predictions += tables
    if privacy is not None:
        results["privacy"], tables = privacy.finish(twins, results, predictions[0])
        predictions += tables
    if "parity" in results:
        results["parity"] = parity()
    if "fairness" in results:
        # Every "this disparity is not zero" flag of the run, adjusted together (each
        # variant's fairness gains the summary: how many comparisons, how many flagged).
        variants = {"baseline": results["fairness"],
                    **{name: section["fairness"]
                       for name, section in results.get("mitigation", {}).items()},
                    **{dp_variant(entry["target_epsilon"]): entry["fairness"]
                       for entry in results.get("privacy", {}).get("dp_sgd", {}).get(
                           "budgets", [])}}
        flag_run(variants, spec.fairness.multiplicity, 1 - spec.fairness.confidence)
    results["execution"] = engine.describe()
    results["run_seconds"] = time.perf_counter() - started
    return results, predictions


def run_attribution(spec: AuditSpec, dataset: Dataset, twins: dict[tuple[str, int], Twin],
                    family: Family, engine: Engine | None = None) -> dict:
    """Attributions of every twin, their agreement, and their weight on sensitive features.

    The family names the driver: tabular features (binary MLP: every method, the fairness
    link), images (per-class Integrated Gradients heat maps) or token ids (Integrated
    Gradients through the embedding). ``[attribution] baselines`` and ``methods`` are tabular
    settings: images and text get Integrated Gradients only, from a blank image and from the
    all-padding sequence (see ``attribution/image.py`` and ``attribution/text.py`` for why);
    ``n_rows``, ``n_steps``, ``integration_method`` and ``random_state`` apply to every kind.
    """
    driver, reason = family.attribution_driver(dataset)
    if driver is None:
        return {"status": "not_applicable", "reason": reason}
    settings = spec.attribution
    common: dict[str, Any] = {"n_rows": settings.n_rows or None, "n_steps": settings.n_steps,
                              "integration_method": settings.integration_method,
                              "random_state": settings.random_state}
    with thread_limit(spec.training.frameworks, spec.training.threads):
        if driver == "image":
            from twinaudit.attribution.image import image_attribution_audit

            return image_attribution_audit(twins, dataset, baselines="zeros", **common)
        if driver == "text":
            from twinaudit.attribution.text import text_attribution_audit

            return text_attribution_audit(twins, dataset, baselines="padding", **common)
        from twinaudit.attribution import attribution_audit

        return attribution_audit(
            twins, dataset, sensitive_columns=list(spec.data.sensitive_features),
            proxy_columns=settings.proxy_columns or dataset.info.get("proxies", []),
            baselines=settings.baselines, methods=settings.methods, **common,
            integrated_gradients_rows=settings.integrated_gradients_rows or None,
            engine=engine, threads=spec.training.threads,
        )


def check_groups(spec: AuditSpec, dataset: Dataset) -> None:
    """Before any training: the groups the audits need must occur in the splits that use them.

    Every privileged group must occur in the training split and, when ThresholdOptimizer
    runs, every test group in the validation split it fits its thresholds on.
    """
    for column, value in spec.fairness.privileged.items():
        present = set(dataset.train.sensitive_features[column])
        if value not in present:
            raise TwinauditError(
                f"{spec.source}: [fairness].privileged.{column} = {value!r} does not occur in "
                f"the data (groups are: {', '.join(sorted(present))})")
    if spec.audits.mitigation and "threshold_optimizer" in spec.mitigation.methods:
        try:
            check_thresholds_possible(dataset.validation.y, dataset.validation.sensitive_features,
                                      dataset.test.sensitive_features, spec.threshold_on,
                                      spec.fairness.min_group_size)
        except TwinauditError as error:
            raise TwinauditError(
                f"{spec.source}: [mitigation] threshold_optimizer: {error} (a larger "
                "validation_fraction, a coarser [mitigation] threshold_on, or [mitigation] "
                "threshold_optimizer = false)") from None

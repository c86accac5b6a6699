"""``twinaudit run``: one audit definition in, results.json + predictions + report out.

Order matters for the "nothing half-written" promise: the spec and the data are validated
before any training, the output folders are locked before training starts, and every output
(checkpoints included) is written into staging folders that are swapped in whole at the very
end (:mod:`twinaudit.outputs`).
"""

from __future__ import annotations

import dataclasses
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from twinaudit import __version__
from twinaudit.audits.parity import submit_parity_audit
from twinaudit.data import Dataset, Split, load_dataset
from twinaudit.engine import Collect, Engine, Execution, InProcess, Progress, open_engine
from twinaudit.errors import TwinauditError
from twinaudit.fairness.by_twin import (
    audit_settings,
    before_after,
    fairness_by_twin,
    fairness_of_counts,
)
from twinaudit.fairness.mitigation import (
    Constraint,
    check_thresholds_possible,
    mitigation_groups,
    reweighing_weights,
    threshold_optimizer_predictions,
)
from twinaudit.fairness.multiplicity import flag_run
from twinaudit.families import Family, family_of
from twinaudit.frameworks import Twin, thread_limit, twin_class
from twinaudit.frameworks import environment as framework_environment
from twinaudit.frameworks.cache import (
    CACHE_FOLDER,
    OFF,
    SectionCache,
    TrainingInputs,
    TwinCache,
    fingerprint,
)
from twinaudit.frameworks.schedule import Schedule
from twinaudit.frameworks.training import TrainingData, train_twin
from twinaudit.nets import RECONSTRUCTION, Network, network_to_dict
from twinaudit.outputs import OutputSet
from twinaudit.results import RESULTS_KIND, SCHEMA_VERSION, environment, write_atomic, write_results
from twinaudit.spec import AuditSpec, ParitySection
from twinaudit.vocabulary import FRAMEWORK_CLASSES

T = TypeVar("T")


@dataclass(frozen=True)
class RunOutcome:
    results_path: Path
    predictions_path: Path
    report_path: Path
    results: dict


def network_for(spec: AuditSpec, dataset: Dataset) -> Network:
    """The audit's network, sized to its data set by its family."""
    return family_of(spec.network.kind).network(spec.network, dataset)


def submit_training(engine: Engine, spec: AuditSpec, data: TrainingData, network: Network,
                    schedule: Schedule, *, sample_weight: np.ndarray | None = None,
                    cache: TwinCache | None = None) -> Collect[dict[tuple[str, int], Twin]]:
    """Submit one training task per (framework, seed), all from the same network spec and
    schedule; with a ``cache``, a twin whose every training input is unchanged is loaded
    instead (in this process: it is a read). The returned callable waits for the twins and
    stores the freshly trained ones in the cache."""
    classes = {framework: twin_class(framework) for framework in spec.training.frameworks}
    fingerprints = fingerprint(*data) if cache is not None else ""
    weights = fingerprint(sample_weight) if cache is not None else None
    # The arrays go to the workers once, not with each task.
    shared, shared_weights = engine.share(data), engine.share(sample_weight)
    pending: dict[tuple[str, int], tuple[TrainingInputs, Collect[Twin]]] = {}
    for seed in spec.training.seeds:
        for framework in spec.training.frameworks:
            inputs = TrainingInputs(network, schedule, seed, framework, spec.training.threads,
                                    fingerprints, weights)
            cached = cache.load(classes[framework], inputs) if cache is not None else None
            pending[(framework, seed)] = (inputs, engine.submit(
                "training", train_twin, framework, network, schedule, seed,
                spec.training.threads, shared, shared_weights) if cached is None
                else _ready(cached))

    def collect() -> dict[tuple[str, int], Twin]:
        twins = {}
        for key, (inputs, twin_of) in pending.items():
            twin = twin_of()
            if cache is not None and "cache" not in twin.history_:  # trained, not loaded
                cache.store(twin, inputs)
            twins[key] = twin
        return twins

    return collect


def _ready(value: T) -> Collect[T]:
    """An already known result, as the engine's tasks give theirs."""
    return lambda: value


def train_twins(spec: AuditSpec, dataset: Dataset, network: Network, schedule: Schedule, *,
                sample_weight: np.ndarray | None = None, cache: TwinCache | None = None,
                engine: Engine | None = None) -> dict[tuple[str, int], Twin]:
    """Fit one twin per (framework, seed) and wait for them (see :func:`submit_training`)."""
    return submit_training(engine or InProcess(), spec, training_data(dataset), network,
                           schedule, sample_weight=sample_weight, cache=cache)()


def training_data(dataset: Dataset) -> TrainingData:
    return TrainingData(dataset.train.X, dataset.train.y, dataset.validation.X,
                        dataset.validation.y)


def predictions_frame(twins: dict[tuple[str, int], Twin], split: Split, *,
                      variant: str = "baseline", threshold: float = 0.5,
                      thresholds: dict[tuple[str, int], float] | None = None) -> pd.DataFrame:
    """Per-row predictions of every twin on a split, with the sensitive features beside them.

    ``y_true``, ``score`` and ``y_pred`` are the binary outcomes the fairness audit reads;
    what they mean is the network's task's (:meth:`twinaudit.nets.tasks.Task.prediction_columns`:
    a binary classifier's ``y_pred`` is its score at or above ``threshold``; a
    reconstruction's is the anomaly flag at the twin's own validation threshold,
    ``thresholds``).
    """
    frames = []
    for (framework, seed), twin in twins.items():
        threshold = thresholds[(framework, seed)] if thresholds else threshold
        assert twin.network is not None, "the twin has no network"  # trained twins have one
        columns: dict = {"row_id": split.row_id, "variant": variant, "framework": framework,
                         "seed": seed,
                         **twin.network.task.prediction_columns(twin, split.X, split.y,
                                                                threshold=threshold)}
        frame = pd.DataFrame(columns)
        frames.append(pd.concat([frame, split.sensitive_features], axis=1))
    return pd.concat(frames, ignore_index=True)


def twin_summaries(twins: dict[tuple[str, int], Twin], dataset: Dataset,
                   checkpoints: dict[tuple[str, int], Path] | None) -> list[dict]:
    summaries = []
    for (framework, seed), twin in twins.items():
        assert twin.network is not None, "the twin has no network"  # trained twins have one
        history = twin.history_
        summaries.append({
            "framework": framework,
            "seed": seed,
            **twin.network.task.summary(twin, dataset.test.X, dataset.test.y),
            "epochs_run": len(history["epochs"]),
            "best_epoch": history["best_epoch"],
            "train_seconds": history["train_seconds"],
            # Loaded from the twin cache, trained and stored, or trained with it off.
            "cache": history.get("cache", OFF),
            "history": history["epochs"],
            "checkpoint": str(checkpoints[(framework, seed)]) if checkpoints else None,
        })
    return summaries


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
    """What a run writes into its models folder: one folder per framework, and the cache."""
    return (*FRAMEWORK_CLASSES, CACHE_FOLDER)


def _audit(spec: AuditSpec, dataset: Dataset, *, models: Path, models_dir: Path,
           command: str | None, started: float, cache: TwinCache,
           engine: Engine) -> tuple[dict, list[pd.DataFrame]]:
    """Train the twins (checkpoints into ``models``, recorded under ``models_dir``, where they
    will be once the run's outputs are swapped in) and run every enabled audit."""
    family = family_of(spec.network.kind)
    network = family.network(spec.network, dataset)
    schedule = Schedule.from_section(spec.training)
    # The parity proof pairs two frameworks: the first listed is the reference.
    listed = tuple(spec.training.frameworks)
    pair = listed if len(listed) == 2 else None
    reweighing = spec.audits.mitigation and spec.mitigation.reweighing
    if reweighing:
        # Computed before any training, so an empty (group, label) cell stops the run early.
        weights = reweighing_weights(dataset.train.y, dataset.train.sensitive_features,
                                     spec.reweigh_on,
                                     min_group_size=spec.fairness.min_group_size)

    # Every twin is submitted now, the reweighed ones too: the engine trains them side by side.
    data = training_data(dataset)
    sections = SectionCache(cache, spec.to_dict(), fingerprint(
        *data, dataset.test.X, dataset.test.y, dataset.train.sensitive_features.to_numpy(str),
        dataset.test.sensitive_features.to_numpy(str)))
    baseline = submit_training(engine, spec, data, network, schedule, cache=cache)
    if reweighing:
        reweighed_twins = submit_training(engine, spec, data, network, schedule,
                                          sample_weight=weights, cache=cache)
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
    if spec.audits.parity and pair is not None:
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
    if spec.audits.mitigation:
        mitigation: dict = {}
        if reweighing:
            reweighed = reweighed_twins()
            predictions.append(predictions_frame(reweighed, dataset.test, variant="reweighed",
                                                 threshold=spec.data.threshold))
            mitigation["reweighing"] = reweighing_section(
                spec, dataset, weights, reweighed, predictions[-1], results, network, schedule,
                family, engine, data, sections)
        if spec.mitigation.threshold_optimizer:
            predictions.append(threshold_optimized(twins, dataset, spec))
            mitigation["threshold_optimizer"] = {
                "constraints": spec.mitigation.constraints, "groups": spec.threshold_on,
                "pooled_groups": mitigation_groups(
                    dataset.validation.sensitive_features, spec.threshold_on,
                    spec.fairness.min_group_size, dataset.test.sensitive_features)[2],
                "fitted_on": "validation split scores of each twin",
                **mitigation_effect(spec, predictions[-1], results, family,
                                    dataset.favourable_label, engine),
            }
        results["mitigation"] = mitigation
    if "parity" in results:
        results["parity"] = parity()
    if "fairness" in results:
        # Every "this disparity is not zero" flag of the run, adjusted together (each
        # variant's fairness gains the summary: how many comparisons, how many flagged).
        variants = {"baseline": results["fairness"],
                    **{name: section["fairness"]
                       for name, section in results.get("mitigation", {}).items()}}
        flag_run(variants, spec.fairness.multiplicity, 1 - spec.fairness.confidence)
    results["execution"] = engine.describe()
    results["run_seconds"] = time.perf_counter() - started
    return results, predictions


def submit_parity(engine: Engine, spec: AuditSpec, twins: dict[tuple[str, int], Twin],
                  data: TrainingData, sample_weight: np.ndarray | None, dataset: Dataset,
                  network: Network, schedule: Schedule, *, settings: ParitySection,
                  sections: SectionCache) -> Collect[dict]:
    """The parity audit of a pair of twin sets, as tasks of the engine (or read from the
    section cache)."""
    key = sections.key("parity", twins.values(), dataclasses.asdict(settings))
    cached = sections.load(key)
    if cached is not None:
        return _ready(cached)
    pair = cast(tuple[str, str], tuple(spec.training.frameworks))  # parity runs on a pair
    collect = submit_parity_audit(engine, twins, engine.share(data), sample_weight,
                                  (dataset.test.X, dataset.test.y), network=network,
                                  schedule=schedule, frameworks=pair, settings=settings,
                                  threads=spec.training.threads)

    def stored() -> dict:
        section = collect()
        sections.store(key, section)
        return section

    return stored


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
    if spec.audits.mitigation and spec.mitigation.threshold_optimizer:
        try:
            check_thresholds_possible(dataset.validation.y, dataset.validation.sensitive_features,
                                      dataset.test.sensitive_features, spec.threshold_on,
                                      spec.fairness.min_group_size)
        except TwinauditError as error:
            raise TwinauditError(
                f"{spec.source}: [mitigation] threshold_optimizer: {error} (a larger "
                "validation_fraction, a coarser [mitigation] threshold_on, or [mitigation] "
                "threshold_optimizer = false)") from None


def mitigation_effect(spec: AuditSpec, predictions: pd.DataFrame, results: dict,
                      family: Family, favourable: int, engine: Engine) -> dict:
    """Fairness of a mitigated variant and its before/after against the baseline twins."""
    after = fairness_by_twin(predictions, spec, family.calibrated_scores,
                             favourable=favourable, engine=engine)
    effect = {"fairness": after}
    if "fairness" in results:
        effect["before_after"] = before_after(results["fairness"], after)
    return effect


def reweighing_section(spec: AuditSpec, dataset: Dataset, weights: np.ndarray,
                       reweighed: dict[tuple[str, int], Twin], predictions: pd.DataFrame,
                       results: dict, network: Network, schedule: Schedule,
                       family: Family, engine: Engine, data: TrainingData,
                       sections: SectionCache) -> dict:
    """Twins retrained with Kamiran–Calders weights: their parity, fairness and trade-off."""
    section = {
        "groups": spec.reweigh_on,
        "pooled_groups": mitigation_groups(dataset.train.sensitive_features, spec.reweigh_on,
                                           spec.fairness.min_group_size)[2],
        "weights": {"min": float(weights.min()), "max": float(weights.max()),
                    "mean": float(weights.mean())},
        "twins": [{key: value for key, value in summary.items() if key != "history"}
                  for summary in twin_summaries(reweighed, dataset, None)],
        **mitigation_effect(spec, predictions, results, family, dataset.favourable_label,
                            engine),
    }
    if "parity" in results:
        # The identical-settings proof must hold for the weighted training too (its batches
        # carry the weights); the chaos envelope, one more training run, is the baseline's.
        parity = submit_parity(
            engine, spec, reweighed, data, weights, dataset, network, schedule,
            # The weighted batches are what is new here: one seed shows them.
            settings=dataclasses.replace(spec.parity, chaos_envelope=False, proof_seeds=1),
            sections=sections)()
        section["parity"] = {key: parity[key] for key in
                             ("verdict", "proof", "accuracy", "prediction_agreement")}
    return section


def threshold_optimized(twins: dict[tuple[str, int], Twin], dataset: Dataset,
                        spec: AuditSpec) -> pd.DataFrame:
    """Post-processed test predictions: per-group thresholds fitted on validation scores."""
    frame = predictions_frame(twins, dataset.test, variant="threshold_optimizer",
                              threshold=spec.data.threshold)
    for (framework, seed), twin in twins.items():
        rows = (frame["framework"] == framework) & (frame["seed"] == seed)
        frame.loc[rows, "y_pred"] = threshold_optimizer_predictions(
            twin.predict_proba(dataset.validation.X)[:, 1], dataset.validation.y,
            dataset.validation.sensitive_features, frame.loc[rows, "score"].to_numpy(),
            dataset.test.sensitive_features, columns=spec.threshold_on,
            # spec.load checked it is one of CONSTRAINTS.
            constraints=cast(Constraint, spec.mitigation.constraints), random_state=seed,
            min_group_size=spec.fairness.min_group_size,
        )
    return frame

"""The attribution audit: every method on every twin, their agreement and the fairness link.

One call, :func:`attribution_audit`, returns a JSON-ready dict for ``results.json``: global
importances and summary figures, never per-row attributions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from twinaudit.attribution._common import captum_check, rounded, sample_rows
from twinaudit.attribution.agreement import (
    fairness_link,
    global_importance,
    matching_columns,
    top_features,
    twin_agreement,
)
from twinaudit.attribution.gradients import TARGET
from twinaudit.attribution.integrated_gradients import (
    RELATIVE_DELTA_THRESHOLD,
    resolve_baselines,
)
from twinaudit.attribution.methods import (
    METHODS,
    AttributionSettings,
    MethodOutcome,
    run_method,
)
from twinaudit.attribution.torch_bridge import tabular_captum_attributions
from twinaudit.engine import Engine, InProcess
from twinaudit.frameworks import limited

if TYPE_CHECKING:
    from twinaudit.data import Dataset
    from twinaudit.frameworks.base import Twin

DEFAULT_METHODS = tuple(METHODS)
N_BACKGROUND = 100
#: Rows on which our Integrated Gradients is checked against captum's in every run.
N_CAPTUM_CHECK_ROWS = 200


def attribution_audit(
    twins: Mapping[tuple[str, int], Twin],
    dataset: Dataset,
    *,
    sensitive_columns: Iterable[str] | None = None,
    proxy_columns: Iterable[str] = (),
    n_rows: int | None = 2000,
    integrated_gradients_rows: int | None = None,
    n_steps: int = 50,
    integration_method: str = "gausslegendre",
    baselines: str | np.ndarray = "train_mean",
    methods: Sequence[str] = DEFAULT_METHODS,
    n_background: int = N_BACKGROUND,
    n_explainer_rows: int = 200,
    n_reference_rows: int = 50,
    n_metric_rows: int = 100,
    top_k: int = 10,
    random_state: int = 0,
    engine: Engine | None = None,
    threads: int = 0,
) -> dict:
    """Attribute the log-odds of class 1 of every twin with every method; compare the twins.

    Parameters
    ----------
    twins : mapping of (framework, seed) to Twin
        Fitted twins, e.g. ``{("torch", 0): ..., ("keras", 0): ..., ("torch", 1): ...}``.
    dataset : Dataset
        Rows are drawn from ``dataset.test``; the background sample and the ``"train_mean"``
        baseline come from ``dataset.train``.
    sensitive_columns : iterable of str, optional
        Input columns of the sensitive features (source-column names select their one-hot
        columns); defaults to the dataset's sensitive features.
    proxy_columns : iterable of str
        Columns or one-hot prefixes of known proxies, e.g.
        the data set's ``info["proxies"]`` for Adult (relationship, marital_status).
    n_rows : int or None
        Size of the seeded sample of test rows the peer methods explain (captum's and shap's);
        None explains every test row.
    integrated_gradients_rows : int or None
        The same for our Integrated Gradients, which costs one batched pass per step; None
        (the default) explains every test row.
    n_steps, integration_method : int, str
        Integrated Gradients' quadrature (captum's names).
    baselines : "train_mean", "zeros" or array of shape (n_features,)
        The reference row of Integrated Gradients and DeepLift.
    methods : sequence of str
        Names from :data:`~twinaudit.attribution.methods.METHODS`.
    n_background : int
        Training rows in the background sample of GradientShap and shap (same for all twins).
    n_explainer_rows, n_reference_rows, n_metric_rows : int
        Rows (the first of the sample) for shap's GradientExplainer, the permutation
        reference, and captum's infidelity and sensitivity_max.
    top_k : int
        Features listed per twin and compared in the top-k overlap.
    random_state : int
        Seeds the row sample, the background sample and every explainer's draws.
    engine : Engine, optional
        Runs each method on each twin as one task (default: in this process, in turn).
    threads : int
        The frameworks' intra-op thread limit inside each task (0: as they are).

    Returns
    -------
    dict
        JSON-ready: ``kind`` (``"tabular"``), ``settings``, ``feature_names``, ``columns``
        (what the sensitive and proxy names matched), and per method: per twin (key
        ``"framework/seed"``) its status, importances and figures, then ``agreement``;
        Integrated Gradients also carries ``captum_check``.
    """
    unknown = [name for name in methods if name not in METHODS]
    if unknown:
        raise ValueError(f"unknown attribution methods {unknown} (expected names from "
                         f"{sorted(METHODS)})")
    if not twins:
        raise ValueError("no twins to audit")
    feature_names = list(dataset.feature_names)
    rows = sample_rows(len(dataset.test), n_rows, random_state)
    rng = np.random.default_rng(random_state)
    background_rows = np.sort(rng.choice(len(dataset.train), min(n_background,
                                                                len(dataset.train)),
                                         replace=False))
    settings = AttributionSettings(
        X=np.ascontiguousarray(dataset.test.X[rows], dtype=np.float32),
        baseline=resolve_baselines(baselines, len(feature_names), X_train=dataset.train.X),
        background=np.ascontiguousarray(dataset.train.X[background_rows], dtype=np.float32),
        random_state=random_state, n_steps=n_steps, integration_method=integration_method,
        n_explainer_rows=n_explainer_rows, n_reference_rows=n_reference_rows,
        n_metric_rows=n_metric_rows,
    )
    groups = dataset.test.sensitive_features.iloc[rows].reset_index(drop=True)
    ig_rows = sample_rows(len(dataset.test), integrated_gradients_rows, random_state)
    ig_settings = dataclasses.replace(
        settings, X=np.ascontiguousarray(dataset.test.X[ig_rows], dtype=np.float32))
    ig_groups = dataset.test.sensitive_features.iloc[ig_rows].reset_index(drop=True)
    if sensitive_columns is None:
        sensitive_columns = list(groups.columns)
    sensitive_columns, proxy_columns = list(sensitive_columns), list(proxy_columns)

    engine = engine or InProcess()
    shared_settings = {name: engine.share(value) for name, value in
                       (("peers", settings), ("integrated_gradients", ig_settings))}
    shared_twins = {key: engine.share(twin) for key, twin in twins.items()}

    def rows_of(method: str) -> str:
        return "integrated_gradients" if method == "integrated_gradients" else "peers"

    # Every (method, twin) is submitted before any is collected: the engine runs them side by
    # side; each is seeded by the settings alone, so the order does not matter.
    pending = {method: {key: engine.submit("attribution", limited, (key[0],), threads,
                                           run_method, method, twin,
                                           shared_settings[rows_of(method)])
                        for key, twin in shared_twins.items()}
               for method in methods}
    results = {}
    for method in methods:
        outcomes = {key: outcome() for key, outcome in pending[method].items()}
        results[method] = _method_result(
            outcomes, feature_names,
            ig_groups if rows_of(method) == "integrated_gradients" else groups,
            sensitive_columns=sensitive_columns, proxy_columns=proxy_columns, top_k=top_k,
        )
    if "integrated_gradients" in results:
        results["integrated_gradients"]["captum_check"] = _captum_check(twins, settings)
    return rounded({
        "kind": "tabular",
        "target": TARGET,
        "settings": {
            "split": "test", "n_rows": int(len(rows)),
            "integrated_gradients_rows": int(len(ig_rows)),
            "n_rows_available": len(dataset.test),
            "random_state": int(random_state), "n_steps": int(n_steps),
            "integration_method": integration_method,
            "baselines": baselines if isinstance(baselines, str) else "given row",
            "relative_delta_threshold": RELATIVE_DELTA_THRESHOLD,
            "n_background": int(len(background_rows)), "n_explainer_rows": n_explainer_rows,
            "n_reference_rows": n_reference_rows, "n_metric_rows": n_metric_rows,
            "top_k": top_k,
        },
        "feature_names": feature_names,
        "columns": _columns(feature_names, sensitive_columns, proxy_columns),
        "methods": results,
    })


def _columns(feature_names: list[str], sensitive_columns: list[str],
             proxy_columns: list[str]) -> dict:
    matched = {name: [feature_names[i] for i in matching_columns(feature_names, [name])]
               for name in [*sensitive_columns, *proxy_columns]}
    return {
        "sensitive": sensitive_columns,
        "proxy": proxy_columns,
        "matched": matched,
        # A name that selects nothing (say a sensitive column kept out of the inputs) makes
        # its share zero by construction; the reader should see that it was not a finding.
        "unmatched": [name for name, features in matched.items() if not features],
    }


def _method_result(outcomes: Mapping[tuple[str, int], MethodOutcome], feature_names: list[str],
                   groups, *, sensitive_columns, proxy_columns, top_k) -> dict:
    twins: dict[str, dict[str, Any]] = {}
    for (framework, seed), outcome in outcomes.items():
        key = f"{framework}/{seed}"
        if outcome.status != "ok":
            twins[key] = {"status": outcome.status, "reason": outcome.reason}
            continue
        assert outcome.attributions is not None  # an "ok" outcome carries its attributions
        importance = global_importance(outcome.attributions)
        twins[key] = {
            "status": "ok",
            "seconds": round(outcome.seconds, 4),
            "n_rows": int(len(outcome.attributions)),
            "global_importance": [float(value) for value in importance],
            "top_features": [feature_names[i] for i in top_features(importance, top_k)],
            **outcome.figures,
            "fairness": fairness_link(
                outcome.attributions, feature_names, groups.iloc[:len(outcome.attributions)],
                sensitive_columns=sensitive_columns, proxy_columns=proxy_columns,
            ),
        }
    attributions = {key: outcome.attributions for key, outcome in outcomes.items()
                    if outcome.status == "ok"}
    return {"twins": twins, "agreement": twin_agreement(attributions, k=top_k)}


def _captum_check(twins: Mapping[tuple[str, int], Twin], settings: AttributionSettings) -> dict:
    """Our Integrated Gradients against captum's on the first torch twin, every run."""
    n_rows = min(N_CAPTUM_CHECK_ROWS, len(settings.X))

    def both(twin: Twin) -> tuple[np.ndarray, np.ndarray]:
        subset = dataclasses.replace(settings, X=settings.X[:n_rows])
        ours = run_method("integrated_gradients", twin, subset).attributions
        # Integrated Gradients applies to every twin and is ours (not third-party): always "ok".
        assert ours is not None
        captum = tabular_captum_attributions(twin, subset.X, subset.baseline,
                                             n_steps=settings.n_steps,
                                             method=settings.integration_method)
        return ours, captum

    return captum_check(twins, both, n_rows)



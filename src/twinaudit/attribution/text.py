"""Token-level Integrated Gradients through the embedding layer (the sentiment LSTM).

Token ids are integers: there is no path from one id to another, so the integral runs in
embedding space. A sequence of ids is looked up in the twin's embedding table (a lookup is
exact and the same table in both frameworks), flattened to (length · embedding_dim) for the
one quadrature of :func:`~twinaudit.attribution.integrated_gradients.integrated_gradients`,
and the gradient functions feed it to the layers after the embedding
(:func:`~twinaudit.attribution.gradients.gradient_function` with ``from_embeddings=True``).
A token's attribution is the sum of its position's attributions over the embedding axis.
The explained output is the binary log-odds, as for tabular twins.

**Baseline: the padding sequence** (every position the embedding of the padding id 0). It is
the "empty text" the network has actually seen — shorter texts are left-padded with it — and,
because a padding position of a row equals the baseline there, padding gets exactly zero
attribution: all of ``f(x) − f(baseline)`` is shared among the real tokens. A zero vector is
no token the network has seen and would give attribution to padding positions too; it is
available as ``baselines="zeros"``.

This matches captum's ``LayerIntegratedGradients`` on the embedding layer with an all-padding
baseline sequence, which the captum check runs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from twinaudit.attribution._common import captum_check, rounded, sample_rows
from twinaudit.attribution.agreement import row_cosine, twin_agreement
from twinaudit.attribution.gradients import TARGET, differentiated_row_shape, gradient_function
from twinaudit.attribution.integrated_gradients import (
    RELATIVE_DELTA_THRESHOLD,
    IntegratedGradientsResult,
    integrated_gradients,
)
from twinaudit.attribution.torch_bridge import embedded_captum_attributions
from twinaudit.data.text import OUT_OF_VOCABULARY, PADDING

if TYPE_CHECKING:
    from twinaudit.data import Dataset
    from twinaudit.data.text import Tokenizer
    from twinaudit.frameworks.base import Twin

BASELINES = ("padding", "zeros")
#: Rows per gradient call. A row is a whole sequence (40 × 32 embedded values, against ~100
#: tabular features) and the LSTM keeps every time step's gates for the backward pass, so the
#: tabular 512 rows (26,624 sequences a call) peaked at 3 GB; measured on the sentiment twins,
#: 1,000 rows: 64 rows a call took 0.9 GB and ran faster (torch 3.2 s against 5.1 s, Keras
#: 1.4 s against 2.4 s).
INTERNAL_BATCH_SIZE = 64
#: Rows on which our Integrated Gradients is checked against captum's in every run.
N_CAPTUM_CHECK_ROWS = 100
#: A token enters the top-token lists only with this many occurrences among explained rows:
#: the mean attribution of a word seen once or twice is one sentence's story, not the model's.
MIN_TOKEN_COUNT = 5
#: Per-sentence Spearman needs this many real tokens to rank.
MIN_TOKENS_FOR_SPEARMAN = 3
#: The figures of the per-sentence comparison averaged over twin pairs.
AGREEMENT_FIGURES = ("cosine_median", "cosine_p5", "spearman_median", "spearman_p5")


def embedding_table(twin: Twin) -> np.ndarray:
    """The twin's embedding matrix (vocabulary, embedding_dim), canonical layout, float32."""
    assert twin.network is not None, "the twin has no network"
    names = [named.name for named in twin.network.named_layers()
             if named.layer.kind == "embedding"]
    if not names:
        raise ValueError(f"the {twin.network.kind} network has no embedding layer")
    return twin.get_weights()[f"{names[0]}.embeddings"]


def token_attributions(twin: Twin, token_ids: np.ndarray, *, baselines: str = "padding",
                       n_steps: int = 50, method: str = "gausslegendre",
                       internal_batch_size: int = INTERNAL_BATCH_SIZE,
                       threshold: float = RELATIVE_DELTA_THRESHOLD
                       ) -> tuple[np.ndarray, IntegratedGradientsResult]:
    """Integrated Gradients of the log-odds of class 1 per token, through the embedding.

    Parameters
    ----------
    twin : Twin
        A binary classifier whose first layer is an embedding.
    token_ids : int array of shape (n_rows, length)
    baselines : {"padding", "zeros"}
        The padding token's embedding at every position, or the zero vector.
    n_steps, method, internal_batch_size, threshold
        As in :func:`~twinaudit.attribution.integrated_gradients.integrated_gradients`.

    Returns
    -------
    tokens : ndarray of shape (n_rows, length), float64
        Each position's attribution summed over the embedding axis.
    result : IntegratedGradientsResult
        The attributions in embedding space, (n_rows, length · embedding_dim), and the
        completeness check (which the per-token sums satisfy equally).
    """
    if baselines not in BASELINES:
        raise ValueError(f"unknown text baseline {baselines!r} (expected one of {BASELINES})")
    token_ids = np.asarray(token_ids)
    assert twin.network is not None, "the twin has no network"
    length, width = differentiated_row_shape(twin.network, from_embeddings=True)
    if token_ids.ndim != 2 or token_ids.shape[1] != length:
        raise ValueError(f"token_ids must have shape (n_rows, {length}), got {token_ids.shape}")
    table = embedding_table(twin)
    embedded = table[token_ids].reshape(len(token_ids), length * width)      # (n, T·E)
    baseline = (np.tile(table[PADDING], length) if baselines == "padding"
                else np.zeros(length * width, np.float32))                   # (T·E,)
    result = integrated_gradients(
        gradient_function(twin, from_embeddings=True), embedded, baseline, n_steps=n_steps,
        method=method, internal_batch_size=internal_batch_size, threshold=threshold)
    tokens = result.attributions.reshape(len(token_ids), length, width).sum(axis=2)
    return tokens, result


def top_tokens(token_ids: np.ndarray, tokens: np.ndarray, words: Mapping[int, str], *,
               k: int = 10, min_count: int = MIN_TOKEN_COUNT) -> dict:
    """The words with the largest and the smallest mean attribution over their occurrences.

    Parameters
    ----------
    token_ids : int array (n_rows, length)
    tokens : array (n_rows, length)
        Per-token attributions of the same rows.
    words : mapping of id to word
    k : int
        Words per list.
    min_count : int
        Occurrences a word needs (padding never counts).

    Returns
    -------
    dict
        ``positive`` and ``negative``: lists of ``{"token", "mean", "count"}``, strongest
        first (a word appears in ``negative`` only with a negative mean).
    """
    ids = np.asarray(token_ids).ravel()
    values = np.asarray(tokens, dtype=np.float64).ravel()
    real = ids != PADDING
    size = int(ids.max(initial=0)) + 1
    counts = np.bincount(ids[real], minlength=size)
    sums = np.bincount(ids[real], weights=values[real], minlength=size)
    frequent = np.flatnonzero(counts >= min_count)
    means = sums[frequent] / counts[frequent]
    order = np.argsort(-means, kind="stable")

    def entry(position: int) -> dict:
        token = int(frequent[position])
        return {"token": words.get(token, f"<id {token}>"), "mean": float(means[position]),
                "count": int(counts[token])}

    return {"positive": [entry(i) for i in order[:k] if means[i] > 0],
            "negative": [entry(i) for i in order[::-1][:k] if means[i] < 0]}


def sentence_agreement(first: np.ndarray, second: np.ndarray, real: np.ndarray) -> dict:
    """Per-sentence agreement of two twins' token attributions on the same rows.

    Cosine over all positions (padding is exactly zero for both under the padding baseline,
    so it does not count), Spearman over each sentence's real tokens (sentences with at least
    :data:`MIN_TOKENS_FOR_SPEARMAN` of them); median and 5th percentile of each.
    """
    cosine = row_cosine(first, second)
    correlations = []
    for row in range(len(first)):
        mask = real[row]
        a, b = first[row, mask], second[row, mask]
        if mask.sum() >= MIN_TOKENS_FOR_SPEARMAN and np.ptp(a) > 0 and np.ptp(b) > 0:
            correlations.append(stats.spearmanr(a, b).statistic)

    def summary(values, statistic):
        return float(statistic(values)) if len(values) else None

    return {"cosine_median": summary(cosine, np.median),
            "cosine_p5": summary(cosine, lambda v: np.percentile(v, 5)),
            "spearman_median": summary(correlations, np.median),
            "spearman_p5": summary(correlations, lambda v: np.percentile(v, 5)),
            "n_rows": int(len(first)), "n_rows_spearman": len(correlations)}


def example_rows(token_ids: np.ndarray, labels: np.ndarray, n_examples: int, *,
                 groups: np.ndarray | None = None, min_tokens: int = 5,
                 max_tokens: int = 15, max_unknown_share: float = 0.25) -> list[int]:
    """A few readable rows, in file order, taking turns over the groups (say the source
    domains) and alternating positive and negative labels, so the examples are not all of
    one kind.

    Readable: ``min_tokens`` to ``max_tokens`` real tokens, of which at most
    ``max_unknown_share`` are out of the vocabulary (a row of ``<unknown>`` explains little).
    """
    token_ids = np.asarray(token_ids)
    lengths = (token_ids != PADDING).sum(axis=1)
    unknown = (token_ids == OUT_OF_VOCABULARY).sum(axis=1)
    readable = np.flatnonzero((lengths >= min_tokens) & (lengths <= max_tokens)
                              & (unknown <= max_unknown_share * lengths))
    groups = np.zeros(len(labels), dtype=int) if groups is None else np.asarray(groups)
    names = sorted(set(groups[readable].tolist()))
    queues = {(name, label): [int(row) for row in readable
                              if groups[row] == name and labels[row] == label]
              for name in names for label in (0, 1)}
    chosen: list[int] = []
    turn = 0
    while len(chosen) < n_examples and any(queues.values()):
        for name in names:
            wanted = 1 - turn % 2
            turn += 1
            queue = queues[name, wanted] or queues[name, 1 - wanted]
            if queue and len(chosen) < n_examples:
                chosen.append(queue.pop(0))
    return chosen


def text_attribution_audit(
    twins: Mapping[tuple[str, int], Twin],
    dataset: Dataset,
    *,
    n_rows: int | None = 2000,
    n_steps: int = 50,
    integration_method: str = "gausslegendre",
    baselines: str = "padding",
    n_examples: int = 4,
    top_k: int = 10,
    random_state: int = 0,
) -> dict:
    """Token attributions of every text twin: top words, examples, and twin agreement.

    Parameters
    ----------
    twins : mapping of (framework, seed) to Twin
        Binary classifiers whose first layer is an embedding.
    dataset : Dataset
        Token ids with a ``tokenizer``; rows come from ``dataset.test``.
    n_rows : int or None
        A seeded sample of test rows; None explains every test row.
    n_steps, integration_method : int, str
        Captum's quadrature.
    baselines : {"padding", "zeros"}
    n_examples : int
        Sentences shown with per-token attributions of the two twins of the first seed.
    top_k : int
        Words per top list.
    random_state : int
        Seeds the row sample.

    Returns
    -------
    dict
        JSON-ready, ``kind = "text"``: ``settings`` and under
        ``methods.integrated_gradients``: per twin (``"framework/seed"``) its top tokens and
        completeness, ``examples``, the ``agreement`` between twins and ``captum_check``.
    """
    if not twins:
        raise ValueError("no twins to audit")
    rows = sample_rows(len(dataset.test), n_rows, random_state)
    token_ids = np.ascontiguousarray(dataset.test.X[rows])
    labels = np.asarray(dataset.test.y[rows])
    words = _words(dataset.tokenizer)
    options: dict[str, Any] = {"baselines": baselines, "n_steps": n_steps,
                               "method": integration_method}

    entries, per_token, results = {}, {}, {}
    for (framework, seed), twin in twins.items():
        started = time.perf_counter()
        tokens, result = token_attributions(twin, token_ids, **options)
        per_token[framework, seed], results[framework, seed] = tokens, result
        entries[f"{framework}/{seed}"] = {
            "status": "ok", "seconds": round(time.perf_counter() - started, 4),
            "n_rows": int(len(rows)), "completeness": result.completeness_summary(),
            "top_tokens": top_tokens(token_ids, tokens, words, k=top_k),
        }

    real = token_ids != PADDING
    agreement = twin_agreement(per_token, compare=lambda a, b: sentence_agreement(a, b, real),
                               figures=AGREEMENT_FIGURES)
    n_check = min(N_CAPTUM_CHECK_ROWS, len(rows))

    def with_captum(twin: Twin) -> tuple[np.ndarray, np.ndarray]:
        key = next(key for key, candidate in twins.items() if candidate is twin)
        # Compared in embedding space (every position and dimension), stricter than per token.
        return results[key].attributions[:n_check], embedded_captum_attributions(
            twin, token_ids[:n_check], baselines, n_steps, integration_method,
            padding=PADDING, embedding_table=embedding_table(twin))

    return rounded({
        "kind": "text",
        "target": TARGET,
        "settings": {
            "split": "test", "n_rows": int(len(rows)), "n_rows_available": len(dataset.test),
            "random_state": int(random_state), "n_steps": int(n_steps),
            "integration_method": integration_method,
            "baselines": {"padding": "padding (the padding token's embedding at every "
                                     "position)",
                          "zeros": "zeros (the zero vector in embedding space)"}[baselines],
            "attributed_through": "the embedding layer's output, summed over the embedding "
                                  "axis per token",
            "relative_delta_threshold": RELATIVE_DELTA_THRESHOLD,
            "min_token_count": MIN_TOKEN_COUNT, "top_k": top_k,
        },
        "methods": {"integrated_gradients": {
            "twins": entries,
            "examples": _examples(dataset, rows, token_ids, labels, per_token, results, words,
                                  n_examples),
            "agreement": agreement,
            "captum_check": captum_check(twins, with_captum, n_check),
        }},
    })


def _words(tokenizer: Tokenizer | None) -> dict[int, str]:
    words = {PADDING: "<pad>", OUT_OF_VOCABULARY: "<unknown>"}
    if tokenizer is not None:
        words.update({index: word for word, index in tokenizer.vocabulary_.items()})
    return words


def _examples(dataset, rows, token_ids, labels, per_token, results, words, n_examples) -> list:
    """The chosen sentences with the per-token attributions of the first seed's twins."""
    seeds = sorted({seed for _, seed in per_token})
    keys = [key for key in per_token if key[1] == seeds[0]]  # the audit's framework order
    domains = dataset.test.sensitive_features
    first_group = (domains.iloc[rows, 0].astype(str).to_numpy() if len(domains.columns)
                   else None)
    examples = []
    for position in example_rows(token_ids, labels, n_examples, groups=first_group):
        real = token_ids[position] != PADDING
        example = {
            "row_id": int(dataset.test.row_id[rows[position]]),
            "label": int(labels[position]),
            "tokens": [words.get(int(token), f"<id {int(token)}>")
                       for token in token_ids[position][real]],
            "twins": {f"{framework}/{seed}": {
                "attributions": [float(v) for v in per_token[framework, seed][position][real]],
                "log_odds": float(results[framework, seed].outputs[position]),
                "baseline_log_odds": float(results[framework, seed].baseline_outputs[position]),
                "delta": float(results[framework, seed].deltas[position]),
            } for framework, seed in keys},
        }
        if len(domains.columns):
            example["group"] = {column: str(domains[column].iloc[rows[position]])
                                for column in domains.columns}
        examples.append(example)
    return examples



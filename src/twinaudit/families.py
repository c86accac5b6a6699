"""One :class:`Family` per network kind: everything the pipeline needs to know about a kind.

A family says how to size its network from a data set, whether its predictions' ``score``
is a calibrated P(label 1), which attribution driver explains it, and which optional audits
apply to it. The pipeline, the parity audit and the fairness audit ask the family; no module
outside this one and :mod:`twinaudit.nets` tests a kind string, an input shape or a dtype to
decide what a network is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twinaudit.nets import AutoencoderNetwork, CNNNetwork, LSTMNetwork, MLPNetwork, Network
from twinaudit.spec import NetworkSection

if TYPE_CHECKING:
    from twinaudit.data import Dataset

@dataclass(frozen=True)
class Family:
    """What one ``[network] kind`` is, for the rest of the package.

    Attributes
    ----------
    kind : str
        The ``[network] kind`` name.
    build : callable
        ``(section, dataset) -> Network``: the network sized to the data set.
    attribution : str or None
        The attribution driver: ``"tabular"``, ``"image"``, ``"text"``; None when there is no
        class output to explain (why: ``attribution_reason``).
    binary_attribution_only : bool
        The driver explains binary classifiers only (tabular and text drivers).
    counterfactual : bool
        The counterfactual identity test applies (text twins with a tokenizer).
    calibrated_scores : bool
        The predictions' ``score`` is P(label 1), as the calibration error needs: binary
        classifiers. (A multi-class twin's score is the true class's probability, an
        autoencoder's a reconstruction error.)
    """

    kind: str
    build: Callable[[NetworkSection, Dataset], Network]
    attribution: str | None = None
    attribution_reason: str = ""
    binary_attribution_only: bool = True
    counterfactual: bool = False
    calibrated_scores: bool = False

    def network(self, section: NetworkSection, dataset: Dataset) -> Network:
        """The audit's network, sized to its data set (inputs, classes, vocabulary)."""
        return self.build(section, dataset)

    def attribution_driver(self, dataset: Dataset) -> tuple[str | None, str]:
        """The attribution driver for this data set, or None and the reason why not."""
        if self.attribution is None:
            return None, self.attribution_reason
        if self.binary_attribution_only and dataset.n_classes != 2:
            return None, ("the attribution audit explains binary classifiers on tabular "
                          "features, image classifiers and binary text classifiers; this "
                          f"audit's network is a {self.kind} (classification, "
                          f"{dataset.n_classes} classes)")
        return self.attribution, ""


def _mlp(section: NetworkSection, dataset: Dataset) -> Network:
    return MLPNetwork(n_inputs=dataset.train.X.shape[1], hidden=tuple(section.hidden),
                   activation=section.activation, dropout=section.dropout, l2=section.l2)


def _cnn(section: NetworkSection, dataset: Dataset) -> Network:
    return CNNNetwork(image_shape=tuple(dataset.train.X.shape[1:]), filters=tuple(section.filters),
                   kernel_size=section.kernel_size, pool_size=section.pool_size,
                   hidden=tuple(section.hidden), n_outputs=dataset.n_classes,
                   activation=section.activation)


def _lstm(section: NetworkSection, dataset: Dataset) -> Network:
    return LSTMNetwork(vocabulary_size=dataset.tokenizer.size,
                    sequence_length=dataset.train.X.shape[1],
                    embedding_dim=section.embedding_dim, units=section.units)


def _autoencoder(section: NetworkSection, dataset: Dataset) -> Network:
    return AutoencoderNetwork(n_inputs=dataset.train.X.shape[1], hidden=tuple(section.hidden),
                           activation=section.activation)


FAMILIES: dict[str, Family] = {family.kind: family for family in (
    Family("mlp", _mlp, attribution="tabular", calibrated_scores=True),
    Family("cnn", _cnn, attribution="image", binary_attribution_only=False),
    Family("lstm", _lstm, attribution="text",
           counterfactual=True, calibrated_scores=True),
    Family("autoencoder", _autoencoder, attribution_reason=(
        "the autoencoder's output is a reconstruction and its score a reconstruction error, "
        "not a class: there is no class output for the attribution audit to explain")),
)}


def family_of(kind: str) -> Family:
    """The family of a ``[network] kind`` (the spec has already checked the name)."""
    return FAMILIES[kind]

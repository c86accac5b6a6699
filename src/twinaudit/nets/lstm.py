"""Embedding + LSTM text classifier (the classic Keras IMDB example, made small).

token ids (sequence_length,) → embedding (sequence_length, embedding_dim) → LSTM, last hidden
state (units,) → ``n_outputs`` logits.

Sequences have one fixed length, left-padded with id 0 (see
:mod:`twinaudit.data.sentiment`), and neither twin masks: the padding id is an ordinary
token with its own learned embedding, seen identically by both. Masking would need Keras'
``mask_zero`` on one side and packed sequences on the other, two different code paths to keep
equal; left padding puts the real words last, right before the state is read, so padding
costs little.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from twinaudit.nets.layers import LSTM, Dense, Embedding, Layer, Shape
from twinaudit.nets.network import Network


@dataclass(frozen=True)
class LSTMNetwork(Network):
    """Embedding of a ``vocabulary_size`` vocabulary, one LSTM layer, a dense output layer."""

    vocabulary_size: int
    sequence_length: int
    embedding_dim: int = 32
    units: int = 32
    n_outputs: int = 2
    kind: ClassVar[str] = "lstm"
    input_dtype: ClassVar[str] = "int32"

    @property
    def input_shape(self) -> Shape:
        return (self.sequence_length,)

    def layers(self) -> list[Layer]:
        return [Embedding(self.vocabulary_size, self.embedding_dim), LSTM(self.units),
                Dense(self.n_outputs)]

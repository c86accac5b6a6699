"""A word tokenizer and vocabulary, built once in Python and shared by both twins.

Neither framework's text tooling is used (Keras' ``TextVectorization``, torchtext), so the
token ids are one numpy array, identical for both twins, and the rule is written here:

- lower-case, then words are runs of letters, digits and apostrophes (``[a-z0-9']+``);
- the vocabulary is built on the training split only: words seen at least ``min_count``
  times, most frequent first (ties alphabetical), up to ``max_vocabulary`` ids in all;
- id 0 is padding, id 1 stands for any word outside the vocabulary;
- sequences have one fixed length: longer texts keep their last ``length`` tokens, shorter
  ones are padded with 0 on the left (Keras' ``pad_sequences`` defaults), so the real words
  sit right before the LSTM's state is read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import numpy as np

PADDING, OUT_OF_VOCABULARY = 0, 1
_WORD = re.compile(r"[a-z0-9']+")


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class Tokenizer:
    """Text -> fixed-length int32 token ids.

    Parameters
    ----------
    max_vocabulary : int
        Ids in all, padding and out-of-vocabulary included.
    length : int
        Tokens per sequence.
    min_count : int, default 2
        A word seen fewer times in training is out of vocabulary (a word seen once carries
        no information a model could learn from the other rows).

    Attributes
    ----------
    vocabulary_ : dict of str to int
    """

    def __init__(self, max_vocabulary: int, length: int, *, min_count: int = 2):
        self.max_vocabulary = max_vocabulary
        self.length = length
        self.min_count = min_count

    def fit(self, texts: Iterable[str]) -> Tokenizer:
        counts = Counter(word for text in texts for word in tokenize(text))
        ranked = sorted((word for word, count in counts.items() if count >= self.min_count),
                        key=lambda word: (-counts[word], word))
        self.vocabulary_ = {word: index + 2 for index, word in
                            enumerate(ranked[:self.max_vocabulary - 2])}
        return self

    @property
    def size(self) -> int:
        """Ids in use, padding and out-of-vocabulary included (the embedding's rows)."""
        return len(self.vocabulary_) + 2

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        """Token ids, shape (n_texts, length), int32, left-padded with 0."""
        texts = list(texts)
        ids = np.zeros((len(texts), self.length), dtype=np.int32)
        for row, text in enumerate(texts):
            tokens = [self.vocabulary_.get(word, OUT_OF_VOCABULARY)
                      for word in tokenize(text)][-self.length:]
            if tokens:
                ids[row, self.length - len(tokens):] = tokens
        return ids

    def knows(self, phrase: str) -> bool:
        """Whether every word of ``phrase`` is in the vocabulary."""
        return all(word in self.vocabulary_ for word in tokenize(phrase))

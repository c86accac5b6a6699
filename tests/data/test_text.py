"""The tokenizer: a vocabulary ranked by count, left padding, out-of-vocabulary ids."""

import numpy as np

from twinaudit.data.text import OUT_OF_VOCABULARY, PADDING, Tokenizer

TEXTS = ["The movie was good, GOOD!", "a bad movie", "the plot: bad; the cast: good",
         "it's good"]


def test_vocabulary_is_ranked_by_count_then_alphabetically_and_deterministic():
    tokenizer = Tokenizer(max_vocabulary=10, length=5).fit(TEXTS)
    # counts: good 4, the 3, bad 2, movie 2; words seen once are out of vocabulary.
    assert tokenizer.vocabulary_ == {"good": 2, "the": 3, "bad": 4, "movie": 5}
    assert Tokenizer(10, 5).fit(list(reversed(TEXTS))).vocabulary_ == tokenizer.vocabulary_
    assert Tokenizer(max_vocabulary=4, length=5).fit(TEXTS).vocabulary_ == {"good": 2, "the": 3}


def test_encoding_left_pads_keeps_the_last_tokens_and_marks_unknown_words():
    tokenizer = Tokenizer(max_vocabulary=10, length=4).fit(TEXTS)
    encoded = tokenizer.encode(["good movie", "the movie was bad and good", ""])
    np.testing.assert_array_equal(encoded, [
        [PADDING, PADDING, 2, 5],
        [OUT_OF_VOCABULARY, 4, OUT_OF_VOCABULARY, 2],   # ... "was bad and good"
        [PADDING] * 4,
    ])
    assert encoded.dtype == np.int32
    assert tokenizer.knows("the good movie") and not tokenizer.knows("the cast")

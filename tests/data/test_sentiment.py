"""The bundled sentiment snippets: checksums, labels, neutral rows, the tokenizer's fit."""

import numpy as np
import pytest

from twinaudit.data import load_dataset, sentiment
from twinaudit.data.text import Tokenizer

from helpers import shipped_spec


@pytest.fixture(scope="module")
def snippets():
    return sentiment.read_snippets()


def test_the_four_bundled_files_pass_their_published_checksums(snippets):
    # read_snippets verified each file; the row counts are the datasets README's.
    assert snippets["domain"].value_counts().to_dict() == {
        "movie": 10605, "nyt": 5190, "tweets": 4200, "amazon": 3708}


def test_undecodable_bytes_are_replaced_not_fatal():
    frame = sentiment.parse(b"1\t2.5\tgood \xff\xfe movie\r\n\n2\t-1\tbad\n", "movie")
    assert list(frame["rating"]) == [2.5, -1.0]
    assert frame["text"][0] == "good \ufffd\ufffd movie"


def test_label_is_rating_above_zero_and_neutral_rows_are_dropped(snippets):
    spec = shipped_spec("sentiment")
    dataset = load_dataset(spec)
    n_neutral = int((snippets["rating"] == 0).sum())
    assert n_neutral > 0 and dataset.info["neutral_rows_dropped"] == n_neutral
    rows = sum(len(split) for split in (dataset.train, dataset.validation, dataset.test))
    assert rows == len(snippets) - n_neutral
    kept = snippets[snippets["rating"] != 0].reset_index(drop=True)
    test = dataset.test
    np.testing.assert_array_equal(test.y, (kept["rating"].to_numpy()[test.row_id] > 0))
    np.testing.assert_array_equal(test.sensitive_features["domain"],
                                  kept["domain"].to_numpy()[test.row_id])
    assert test.X.shape == (len(test), spec.data.sequence_length)
    assert test.X.dtype == np.int32 and test.X.max() < dataset.tokenizer.size


def test_the_tokenizer_is_fitted_on_the_training_split_only(snippets):
    dataset = load_dataset(shipped_spec("sentiment", max_train_rows=300))
    kept = snippets[snippets["rating"] != 0].reset_index(drop=True)
    again = Tokenizer(10000, 40).fit(kept["text"].to_numpy()[dataset.train.row_id])
    assert again.vocabulary_ == dataset.tokenizer.vocabulary_

"""The data sets of the other networks: simplenet, digits, sentiment, and the tokenizer."""

import dataclasses
import gzip
from pathlib import Path

import numpy as np
import pytest

from twinaudit.data import bundled, load_dataset, sentiment, synthetic
from twinaudit.data.text import OUT_OF_VOCABULARY, PADDING, Tokenizer
from twinaudit.errors import TwinauditError
from twinaudit.spec import load_spec

REPO = Path(__file__).resolve().parents[1]


def shipped(name: str, **data):
    spec = load_spec(REPO / "audits" / f"{name}.toml")
    return dataclasses.replace(spec, data=dataclasses.replace(spec.data, **data))


# -- simplenet ------------------------------------------------------------------------------

def test_simplenet_data_is_generated_identically_and_follows_its_rules():
    first, second = synthetic.generate(), synthetic.generate()
    assert first.equals(second) and len(first) == synthetic.N_ROWS
    share_b = (first["group"] == "B").mean()
    assert 0.25 < share_b < 0.35
    # Group B's x1 is shifted by +0.8; at equal inputs B is less often positive (a logistic
    # fit recovers the generator's coefficients, −1 for the group).
    means = first.groupby("group")["x1"].mean()
    assert means["B"] - means["A"] == pytest.approx(0.8, abs=0.15)
    from sklearn.linear_model import LogisticRegression

    inputs = np.column_stack([first[synthetic.FEATURES], first["group"] == "B"])
    fitted = LogisticRegression(C=1e6).fit(inputs, first["outcome"] == "1")
    np.testing.assert_allclose(fitted.coef_[0], [1.5, -1.0, 0.5, -1.0], atol=0.3)


def test_simplenet_dataset_has_three_inputs_and_the_group_beside_them():
    dataset = load_dataset(shipped("simplenet"))
    assert dataset.train.X.shape[1] == 3 and dataset.feature_names == ["x1", "x2", "x3"]
    assert list(dataset.train.sensitive_features.columns) == ["group"]
    assert sum(len(split) for split in (dataset.train, dataset.validation, dataset.test)) == 2000


# -- digits ---------------------------------------------------------------------------------

def test_digits_are_channels_last_images_in_unit_range_with_the_digit_as_group():
    dataset = load_dataset(shipped("digits"))
    X = dataset.train.X
    assert X.shape[1:] == (8, 8, 1) and X.dtype == np.float32
    assert X.min() == 0 and X.max() == 1
    assert dataset.n_classes == 10 and set(dataset.test.y) == set(range(10))
    np.testing.assert_array_equal(dataset.test.sensitive_features["digit"],
                                  dataset.test.y.astype(str))
    total = len(dataset.train) + len(dataset.validation) + len(dataset.test)
    assert total == 1797
    summary = dataset.summary()
    assert summary["n_classes"] == 10 and summary["positive_rate"]["test"] is None


def test_digits_splits_are_seeded():
    first, second = (load_dataset(shipped("digits")) for _ in range(2))
    np.testing.assert_array_equal(first.test.row_id, second.test.row_id)
    other = load_dataset(shipped("digits", split_seed=1))
    assert not np.array_equal(first.test.row_id, other.test.row_id)


# -- sentiment ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def snippets():
    return sentiment.read_snippets()


def test_the_four_bundled_files_pass_their_published_checksums(snippets):
    # read_snippets verified each file; the row counts are the datasets README's.
    assert snippets["domain"].value_counts().to_dict() == {
        "movie": 10605, "nyt": 5190, "tweets": 4200, "amazon": 3708}


def test_a_corrupted_sentiment_bundle_is_refused(monkeypatch):
    decompress = gzip.decompress
    monkeypatch.setattr(bundled.gzip, "decompress", lambda packed: decompress(packed) + b"x")
    with pytest.raises(TwinauditError, match="sha256"):
        sentiment.read_snippets()


def test_undecodable_bytes_are_replaced_not_fatal():
    frame = sentiment.parse(b"1\t2.5\tgood \xff\xfe movie\r\n\n2\t-1\tbad\n", "movie")
    assert list(frame["rating"]) == [2.5, -1.0]
    assert frame["text"][0] == "good \ufffd\ufffd movie"


def test_label_is_rating_above_zero_and_neutral_rows_are_dropped(snippets):
    spec = shipped("sentiment")
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
    dataset = load_dataset(shipped("sentiment", max_train_rows=300))
    kept = snippets[snippets["rating"] != 0].reset_index(drop=True)
    again = Tokenizer(10000, 40).fit(kept["text"].to_numpy()[dataset.train.row_id])
    assert again.vocabulary_ == dataset.tokenizer.vocabulary_


# -- the tokenizer --------------------------------------------------------------------------

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

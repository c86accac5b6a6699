"""The VADER ground-truth sentiment snippets (Hutto & Gilbert, ICWSM 2014), bundled.

Four files, one per source domain (movie reviews, Amazon reviews, New York Times editorials,
tweets), each line ``id<TAB>mean human rating in [-4, 4]<TAB>text``. They are bundled gzip
compressed and verified against the sha256 of the raw files before use. Text is decoded as
UTF-8 with undecodable bytes replaced (the files are not clean UTF-8 everywhere).

Label: ``rating > 0`` (positive). Rows rated exactly 0 are neutral and dropped. Splits are
seeded; the tokenizer (:mod:`twinaudit.data.text`) is fitted on the training split only and
its token ids are the input of both twins. The sensitive feature is the source ``domain``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twinaudit.data.bundled import read_bundled
from twinaudit.data.dataset import Dataset, Split
from twinaudit.data.splits import split_indices
from twinaudit.data.text import Tokenizer
from twinaudit.errors import TwinauditError
from twinaudit.spec import DataSection

#: domain -> (bundled file, sha256 of the raw file as published in the datasets README)
FILES = {
    "amazon": ("amazonReviewSnippets_GroundTruth.txt",
               "11a9807a0974a2506a2d3b4851eaf69b3d6d20688ce4923adda2312a4f6dd6c2"),
    "movie": ("movieReviewSnippets_GroundTruth.txt",
              "c8293b0d942e90e223ea2c0955d969040d1a1be514a978b9af0698940bd13350"),
    "nyt": ("nytEditorialSnippets_GroundTruth.txt",
            "7d8fbcce7dde5d716da53e78f4ef4be6b706e9ef1e1d51887e6d0ad4b69cc27e"),
    "tweets": ("tweets_GroundTruth.txt",
               "dfbe7102e2f92579ed8b19df9a3822491880697c67adf712fb66e520cc05102f"),
}
SENSITIVE = "domain"
INFO = {
    "source": "VADER sentiment ground truth, Hutto & Gilbert (ICWSM 2014), "
              "https://github.com/cjhutto/vaderSentiment",
    "licence": "MIT",
    "sha256": {filename: digest for filename, digest in FILES.values()},
    "split": "seeded test and validation splits (data.test_fraction, data.validation_fraction)",
    "label_rule": "rating > 0 is positive; rows rated exactly 0 (neutral) are dropped",
}


def parse(raw: bytes, domain: str) -> pd.DataFrame:
    """One file's rows: id, rating, text (errors in the encoding replaced), domain."""
    rows = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        identifier, rating, text = line.split("\t", 2)
        rows.append((identifier, float(rating), text.strip()))
    frame = pd.DataFrame(rows, columns=["id", "rating", "text"])
    frame["domain"] = domain
    return frame


def read_snippets() -> pd.DataFrame:
    """All four files, in a fixed order, neutral rows included."""
    return pd.concat([parse(read_bundled(filename, digest), domain)
                      for domain, (filename, digest) in FILES.items()], ignore_index=True)


def load(data: DataSection) -> Dataset:
    """The labelled, split and tokenised snippets as a :class:`Dataset`."""
    if list(data.sensitive_features) != [SENSITIVE]:
        raise TwinauditError(f"sentiment: the only sensitive feature is '{SENSITIVE}' "
                             f"(got {data.sensitive_features})")
    snippets = read_snippets()
    n_neutral = int((snippets["rating"] == 0).sum())
    snippets = snippets[snippets["rating"] != 0].reset_index(drop=True)
    labels = (snippets["rating"] > 0).to_numpy(dtype=np.int64)
    splits = split_indices(len(snippets), data, origin="sentiment")
    tokenizer = Tokenizer(data.vocabulary_size, data.sequence_length).fit(
        snippets["text"].iloc[splits["train"]])

    def to_split(rows: np.ndarray) -> Split:
        return Split(X=tokenizer.encode(snippets["text"].iloc[rows]), y=labels[rows],
                     sensitive_features=snippets[[SENSITIVE]].iloc[rows].reset_index(drop=True),
                     row_id=rows.astype(np.int64))

    return Dataset(
        name="sentiment", train=to_split(splits["train"]),
        validation=to_split(splits["validation"]), test=to_split(splits["test"]),
        feature_names=[f"token_{index}" for index in range(data.sequence_length)],
        label_name="rating > 0", positive_label="positive",
        info={**INFO, "split_seed": data.split_seed, "sensitive_as_inputs": False,
              "neutral_rows_dropped": n_neutral, "vocabulary_size": tokenizer.size,
              "sequence_length": data.sequence_length},
        tokenizer=tokenizer,
    )

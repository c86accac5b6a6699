"""UCI Adult, bundled inside the package and checked against its published sha256."""

from __future__ import annotations

import io

import pandas as pd

from twinaudit.data import bundled
from twinaudit.data.source import SourceTable

COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
    "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
    "hours_per_week", "native_country", "income",
]
NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
# fnlwgt is the census sampling weight, not a property of the person, and education is
# education_num spelled out: neither is a model input.
CATEGORICAL = [
    "workclass", "marital_status", "occupation", "relationship", "race", "sex", "native_country",
]
SHA256 = {
    "adult.data": "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
    "adult.test": "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
}
INFO = {
    "source": "UCI Machine Learning Repository, Becker & Kohavi (1996), "
              "https://archive.ics.uci.edu/dataset/2/adult",
    "licence": "CC BY 4.0",
    "sha256": SHA256,
    "split": "official adult.test as the test split; a seeded validation split of adult.data",
    "proxies": ["relationship", "marital_status"],
    "caveat": "Extracted from the 1994 US Census: incomes are not inflation-adjusted, 'sex' is "
              "recorded as binary and 'race' in five coarse categories; small groups "
              "(Amer-Indian-Eskimo, Other) give wide intervals. A benchmark, not a basis for "
              "decisions about people.",
}


def read_bundled(filename: str) -> bytes:
    """The decompressed bytes of a bundled Adult file, verified against its published sha256."""
    return bundled.read_bundled(filename, SHA256[filename])


def parse(raw: bytes, *, is_test_file: bool) -> pd.DataFrame:
    """Parse one Adult file: no header, ", " separators, "?" for missing values."""
    frame = pd.read_csv(
        io.BytesIO(raw),
        header=None,
        names=COLUMNS,
        skipinitialspace=True,
        na_values="?",
        # The test file opens with a junk line "|1x3 Cross validator".
        skiprows=1 if is_test_file else 0,
        skip_blank_lines=True,
    )
    # The test file's labels end with a dot: ">50K." means ">50K".
    frame["income"] = frame["income"].str.rstrip(".")
    for column in CATEGORICAL:
        frame[column] = frame[column].fillna("Unknown").astype(str)
    return frame


def load_source() -> SourceTable:
    """Adult's training and official test files as a :class:`SourceTable`."""
    return SourceTable(
        name="adult",
        train=parse(read_bundled("adult.data"), is_test_file=False),
        test=parse(read_bundled("adult.test"), is_test_file=True),
        label="income",
        positive=">50K",
        numeric_columns=NUMERIC,
        categorical_columns=CATEGORICAL,
        origin="bundled adult",
        info=INFO,
    )

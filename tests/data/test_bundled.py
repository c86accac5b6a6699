"""Bundled data files are checked against their published sha256 before they are read."""

import gzip

import pytest

from twinaudit.data import adult, bundled, sentiment
from twinaudit.errors import TwinauditError


def test_a_corrupted_bundle_is_refused(monkeypatch):
    decompress = gzip.decompress
    monkeypatch.setattr(bundled.gzip, "decompress", lambda packed: decompress(packed) + b"x")
    with pytest.raises(TwinauditError, match="sha256"):
        adult.read_bundled("adult.data")


def test_a_corrupted_sentiment_bundle_is_refused(monkeypatch):
    decompress = gzip.decompress
    monkeypatch.setattr(bundled.gzip, "decompress", lambda packed: decompress(packed) + b"x")
    with pytest.raises(TwinauditError, match="sha256"):
        sentiment.read_snippets()

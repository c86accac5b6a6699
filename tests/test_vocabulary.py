"""The vocabulary is the one list of names; every registry implements exactly its names."""

from __future__ import annotations

import pytest

from twinaudit import vocabulary
from twinaudit.attribution.integrated_gradients import METHODS as QUADRATURE_RULES
from twinaudit.attribution.methods import METHODS
from twinaudit.families import FAMILIES
from twinaudit.frameworks import twin_class


def test_every_attribution_method_named_is_implemented_and_no_other():
    assert tuple(METHODS) == vocabulary.ATTRIBUTION_METHODS


def test_every_quadrature_named_is_implemented():
    assert tuple(QUADRATURE_RULES) == vocabulary.QUADRATURES


def test_every_network_kind_has_a_family_and_its_data_sets_exist():
    assert set(FAMILIES) == set(vocabulary.NETWORKS) == set(vocabulary.NETWORK_DATASETS)
    for datasets in vocabulary.NETWORK_DATASETS.values():
        assert set(datasets) <= set(vocabulary.DATASETS)
    assert set(vocabulary.KIND_KEYS.values()) <= set(vocabulary.NETWORKS)


@pytest.mark.parametrize("framework", vocabulary.FRAMEWORKS)
def test_every_registered_framework_resolves_to_a_twin_that_knows_its_name(framework):
    cls = twin_class(framework)
    assert cls.framework == framework
    assert cls.packages, "each framework names the packages results.json records"


def test_an_unregistered_framework_is_refused():
    with pytest.raises(ValueError, match="unknown framework 'jax'"):
        twin_class("jax")

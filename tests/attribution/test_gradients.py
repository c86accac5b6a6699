"""The explained output and its input gradient: a class's log-softmax, traced once for every
class, and gradients through an embedding only where there is one."""

import numpy as np
import pytest

from twinaudit.attribution.gradients import (
    class_gradient_functions,
    differentiated_row_shape,
    gradient_function,
)
from twinaudit.vocabulary import FRAMEWORKS


def test_class_target_is_the_log_softmax_of_the_class(digits):
    _, dataset, _, twins = digits
    images = dataset.test.X[:8]
    for framework in FRAMEWORKS:
        twin = twins[framework, 0]
        logits = twin.forward(images).astype(np.float64)
        log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        outputs, gradients = gradient_function(twin, target=3)(images.reshape(8, -1))
        np.testing.assert_allclose(outputs, log_softmax[:, 3], atol=1e-5)
        assert gradients.shape == (8, 64)
        # The traced-once variant gives the same numbers for every class.
        per_class = class_gradient_functions(twin)
        for target in (0, 3, 9):
            np.testing.assert_allclose(per_class(target)(images.reshape(8, -1))[1],
                                       gradient_function(twin, target=target)(
                                           images.reshape(8, -1))[1], atol=1e-7)


def test_gradients_through_an_embedding_need_one(digits):
    _, _, network, twins = digits
    with pytest.raises(ValueError, match="no embedding"):
        differentiated_row_shape(network, from_embeddings=True)
    assert differentiated_row_shape(network) == (8, 8, 1)

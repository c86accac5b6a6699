"""Keras Adam with torch's update rule, so both twins take the same step."""

from __future__ import annotations

import keras
from keras import ops


def _dense(gradient):
    """An embedding's gradient densified, repeated tokens summed, as torch's is.

    On TensorFlow it arrives as IndexedSlices with one slice per token occurrence; Keras' ops
    on those work slice by slice, so squaring them before repeated tokens are summed would
    make Adam's v a sum of squares rather than the square of the sum.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if isinstance(gradient, tf.IndexedSlices):
            return tf.convert_to_tensor(gradient)
    return gradient


class TorchRuleAdam(keras.optimizers.Adam):
    """Keras Adam with torch's placement of epsilon.

    torch divides by ``sqrt(v̂) + eps`` with the bias-corrected ``v̂ = v / (1 − β₂ᵗ)``; Keras
    divides by ``sqrt(v) + eps`` before correcting, which is the same only with a step-dependent
    epsilon. We keep torch's rule (it is what ``torch.optim.Adam`` users expect) and implement it
    here, so the two twins take the same step.
    """

    def __init__(self, learning_rate: float = 0.001, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        # Keras keeps the learning rate in a float32 variable, torch as the Python float: in a
        # float64 step the two would differ by float32's rounding of lr (4.7e-8 relative for
        # 1e-3), so the step uses the float. (The schedule never changes lr during training.)
        self.exact_learning_rate = float(learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        gradient = ops.cast(_dense(gradient), dtype)
        # The bias corrections are formed in float64, as torch forms them in Python floats:
        # in float32, 1 − 0.999 loses five digits to cancellation and the first step would
        # differ from torch's by ~1e-5 relative. (ops.cast of a Python float would round it
        # to float32 first, hence convert_to_tensor with the dtype.)
        step = ops.cast(self.iterations + 1, "float64")
        beta_1 = ops.convert_to_tensor(self.beta_1, dtype="float64")
        beta_2 = ops.convert_to_tensor(self.beta_2, dtype="float64")
        bias_correction_1 = 1 - ops.power(beta_1, step)
        bias_correction_2 = 1 - ops.power(beta_2, step)
        exact_rate = ops.convert_to_tensor(self.exact_learning_rate, dtype="float64")
        step_size = ops.cast(exact_rate / bias_correction_1, dtype)
        bias_correction_2_sqrt = ops.cast(ops.sqrt(bias_correction_2), dtype)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        denominator = ops.add(ops.divide(ops.sqrt(v), bias_correction_2_sqrt), self.epsilon)
        self.assign_sub(variable, ops.multiply(ops.divide(m, denominator), step_size))

"""Keras' SGD with each variable's momentum update as one fused TensorFlow kernel.

Why: the child optimizer updates every variable of the supernet in every traced step, and
Keras 3's `SGD.update_step` writes the momentum update as about a dozen graph ops per variable
(casts, multiplies, subtractions, two assignments). With 142 variables in the tiny micro
supernet that was about a quarter of the step function's own nodes (1,748 of 6,746); every
node costs tracing time and first-call time (graph construction, executor set-up) in every
process that starts a search or a retrain (issue #12, BUILD_NOTES.md).
`tf.raw_ops.ResourceApplyKerasMomentum` is TensorFlow's kernel for exactly Keras' update, has
an XLA kernel (TPU, `--jit_compile`), and runs as one op.

Same math as `keras.optimizers.SGD` (tested against it, plain, Nesterov, under a two-replica
MirroredStrategy and under XLA): `m = momentum * m - lr * g`, then `w += m` or, with
Nesterov, `w += momentum * m - lr * g`. Same variables and checkpoint keys as Keras' SGD
(this is an `SGD`; the keys are tested).
"""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="enas_tf")
class FusedSGD(keras.optimizers.SGD):
    """`keras.optimizers.SGD` whose momentum update is `ResourceApplyKerasMomentum`.

    Without momentum, or for sparse (`IndexedSlices`) gradients, it is Keras' own update.
    """

    def update_step(self, gradient, variable, learning_rate):
        if self.momentum == 0 or isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        momentum = self.momentums[self._get_variable_index(variable)]
        tf.raw_ops.ResourceApplyKerasMomentum(
            var=_handle(variable),
            accum=_handle(momentum),
            lr=tf.cast(learning_rate, dtype),
            grad=tf.cast(gradient, dtype),
            momentum=tf.constant(self.momentum, dtype),
            use_nesterov=self.nesterov,
        )


def _handle(variable):
    """The resource handle of a Keras or TensorFlow variable (of this device, inside
    `strategy.extended.update`, for a mirrored one)."""
    if isinstance(variable, keras.Variable):
        variable = variable.value
    return variable.handle

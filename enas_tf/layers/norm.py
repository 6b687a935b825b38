"""Normalisation and regularisation layers that Keras does not provide in the form ENAS needs."""

from __future__ import annotations

import keras
import tensorflow as tf


def batch_stat_norm(x, gamma, beta, epsilon: float):
    """Normalises `x` [N, H, W, C] with its own batch statistics, then scales and shifts.

    The fused kernel (FusedBatchNormV3 and its gradient) in training mode normalises with the
    batch's mean and biased variance, like `tf.nn.moments` + `batch_normalization`, but as one
    op each way instead of ~10 small ones; XLA compiles it too.

    Under mixed precision the statistics are computed in float32 (as Keras's own batch
    normalisation does) and the result cast back to `x`'s dtype.
    """
    f32 = lambda t: tf.cast(t, tf.float32)  # noqa: E731 (a no-op for float32 inputs)
    y, _, _ = tf.compat.v1.nn.fused_batch_norm(
        f32(x), f32(gamma), f32(beta), epsilon=epsilon, is_training=True
    )
    return tf.cast(y, x.dtype)


class BatchStatNorm(keras.layers.Layer):
    """Batch normalisation that always uses the current batch's statistics.

    Used inside the shared supernet only: it has a learnable scale and offset but no moving
    statistics, so it holds no state that a `tf.switch_case` branch would have to update and
    every replica normalises with its own batch (per-replica math, no collectives).
    """

    def __init__(self, epsilon: float = 1e-5, **kw):
        super().__init__(**kw)
        self.epsilon = epsilon

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.gamma = self.add_weight(name="gamma", shape=(channels,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(channels,), initializer="zeros")

    def call(self, x, training=None):
        del training  # Same computation in every mode, by design.
        return batch_stat_norm(x, self.gamma, self.beta, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


class DropPath(keras.layers.Layer):
    """Drops a whole branch per example during training (Larsson et al.; NASNet; ENAS final).

    The keep probability is `1 - (1 - keep_prob) * depth_fraction * progress`: deeper cells drop
    more, and the rate ramps up linearly over training as in the original ENAS final training.
    `progress` (0..1) is a non-trainable variable the training loop assigns, so the compiled
    step reads it without retracing.
    """

    def __init__(self, keep_prob: float, depth_fraction: float, progress, seed=None, **kw):
        super().__init__(**kw)
        if not 0.0 < keep_prob <= 1.0:
            raise ValueError(f"drop-path keep_prob must be in (0, 1], got {keep_prob}")
        self.keep_prob = keep_prob
        self.depth_fraction = depth_fraction
        self.progress = progress
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training or self.keep_prob >= 1.0:
            return x
        drop = (1.0 - self.keep_prob) * self.depth_fraction * tf.cast(self.progress, x.dtype)
        keep = 1.0 - drop
        batch = tf.shape(x)[0]
        noise = keras.random.uniform([batch, 1, 1, 1], dtype=x.dtype, seed=self.seed_generator)
        mask = tf.floor(keep + noise)
        return x / keep * mask

    def get_config(self):
        return {
            **super().get_config(),
            "keep_prob": self.keep_prob,
            "depth_fraction": self.depth_fraction,
        }

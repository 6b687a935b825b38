"""Stateless sampling and the log-probability / entropy terms of the controller's decisions.

The controller samples from integer Philox bits so that one seed gives one architecture in
eager mode, in a `tf.function` and under XLA, on every device (`unit_uniform`); the terms are
written for static shapes and finite values at saturated logits.
"""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf

# Philox explicitly: "auto_select" may pick another algorithm per device (ThreeFry on TPU), which
# would make one seed mean different architectures on different hardware.
RNG_ALG = "philox"
_MANTISSA_BITS = 23


def unit_uniform(shape: Sequence[int], seed: tf.Tensor) -> tf.Tensor:
    """Stateless float32 U(0, 1) (open interval) built from Philox integer bits.

    `tf.random.stateless_uniform` with a float dtype gives different numbers in eager mode and
    under XLA for the same seed (the integer path agrees), so sampling uses integers
    k in [0, 2^23) mapped to (2k + 1) / 2^24: exact in float32, never 0 or 1 (so Gumbel noise
    `-log(-log(u))` is finite).
    """
    k = tf.random.stateless_uniform(
        shape, seed, minval=0, maxval=1 << _MANTISSA_BITS, dtype=tf.int32, alg=RNG_ALG
    )
    return (tf.cast(k, tf.float32) * 2.0 + 1.0) * (2.0 ** -(_MANTISSA_BITS + 1))


def categorical_terms(
    logits: tf.Tensor, token: tf.Tensor, num_classes: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """(log pi(token), entropy) of a categorical with `logits` [n].

    Uses a one-hot dot product instead of a gather: static shapes, dense gradients.
    """
    log_p = tf.nn.log_softmax(logits)
    log_prob = tf.reduce_sum(tf.one_hot(token, num_classes, dtype=tf.float32) * log_p)
    entropy = -tf.reduce_sum(tf.exp(log_p) * log_p)
    return log_prob, entropy


def bernoulli_terms(logits: tf.Tensor, bits: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(sum log pi(bits), sum entropy) of independent Bernoullis with `logits` [k].

    Written with softplus so saturated logits give finite values.
    """
    log_p1 = -tf.nn.softplus(-logits)  # log sigmoid(l)
    log_p0 = -tf.nn.softplus(logits)  # log (1 - sigmoid(l))
    b = tf.cast(bits, tf.float32)
    log_prob = tf.reduce_sum(b * log_p1 + (1.0 - b) * log_p0)
    entropy = -tf.reduce_sum(tf.exp(log_p1) * log_p1 + tf.exp(log_p0) * log_p0)
    return log_prob, entropy

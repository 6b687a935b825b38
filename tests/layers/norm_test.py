"""Tests of the supernet's batch-statistics norm and of drop-path."""

import numpy as np
import tensorflow as tf

from enas_tf.layers import norm


def _reference_batch_norm(x, gamma, beta, epsilon):
    mean = x.mean(axis=(0, 1, 2))
    variance = x.var(axis=(0, 1, 2))  # biased, as batch norm normalises in training
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta


def test_batch_stat_norm_uses_the_batch_statistics_in_every_mode():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(4, 5, 5, 3)) * 3.0 + 2.0).astype(np.float32)
    layer = norm.BatchStatNorm(epsilon=1e-5)
    layer.build(x.shape)
    layer.gamma.assign([0.5, 1.0, 2.0])
    layer.beta.assign([0.1, -0.2, 0.3])
    expected = _reference_batch_norm(x, np.array([0.5, 1.0, 2.0]), np.array([0.1, -0.2, 0.3]), 1e-5)
    for training in (True, False, None):
        np.testing.assert_allclose(layer(x, training=training).numpy(), expected, atol=1e-5)


def test_batch_stat_norm_gradients_match_the_unfused_formula():
    # The layer uses the fused kernel; its gradient must equal that of the textbook formula.
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=(3, 4, 4, 2)) * 2.0 + 1.0, tf.float32)
    layer = norm.BatchStatNorm(epsilon=1e-5)
    layer.build(x.shape)
    layer.gamma.assign([1.5, 0.7])
    weights = tf.constant(rng.normal(size=(3, 4, 4, 2)), tf.float32)

    def unfused(x):
        mean, variance = tf.nn.moments(x, axes=[0, 1, 2])
        return tf.nn.batch_normalization(x, mean, variance, layer.beta, layer.gamma, 1e-5)

    grads = []
    for fn in (layer, unfused):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.sin(fn(x)) * weights)
        grads.append(tape.gradient(loss, [x, layer.gamma, layer.beta]))
    for fused_grad, unfused_grad in zip(*grads, strict=True):
        np.testing.assert_allclose(fused_grad.numpy(), unfused_grad.numpy(), atol=1e-4)


def test_drop_path_is_identity_outside_training_and_at_the_start():
    progress = tf.Variable(0.0, trainable=False)
    layer = norm.DropPath(0.5, depth_fraction=1.0, progress=progress, seed=0)
    x = tf.ones([64, 2, 2, 1])
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())
    np.testing.assert_array_equal(layer(x, training=True).numpy(), x.numpy())  # progress 0


def test_drop_path_drops_whole_examples_and_rescales_the_kept_ones():
    progress = tf.Variable(1.0, trainable=False)
    layer = norm.DropPath(0.5, depth_fraction=1.0, progress=progress, seed=0)
    out = layer(tf.ones([256, 2, 2, 1]), training=True).numpy()
    per_example = out.reshape(256, -1)
    assert set(np.unique(per_example)) == {0.0, 2.0}  # dropped, or kept and scaled by 1/keep
    assert np.all(per_example == per_example[:, :1])  # the whole example, not single pixels
    assert 0.35 < np.mean(per_example[:, 0] > 0) < 0.65

"""Tests of the micro-space building blocks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from enas_tf.layers import ops


@pytest.mark.parametrize("size", [4, 5, 8, 16])
@pytest.mark.parametrize("strides", [1, 2])
def test_window_max_pool_equals_keras_same_max_pool(size, strides):
    x = tf.constant(np.random.default_rng(size).normal(size=(2, size, size, 3)), tf.float32)
    expected = keras.layers.MaxPooling2D(3, strides=strides, padding="same")(x)
    np.testing.assert_array_equal(ops.WindowMaxPool(strides)(x).numpy(), expected.numpy())


def test_factorized_reduce_halves_resolution_and_sets_filters():
    layer = ops.FactorizedReduce(6, search=True)
    out = layer(tf.ones([2, 8, 8, 4]), training=True)
    assert out.shape == (2, 4, 4, 6)


@pytest.mark.parametrize("op", ["sep_conv_3x3", "sep_conv_5x5", "avg_pool_3x3", "max_pool_3x3"])
@pytest.mark.parametrize("strides", [1, 2])
@pytest.mark.parametrize("search", [True, False])
def test_every_op_keeps_filters_and_applies_its_stride(op, strides, search):
    layer = ops.make_micro_op(op, 4, strides, search=search, name=op)
    out = layer(tf.ones([2, 8, 8, 4]), training=True)
    assert out.shape == (2, 8 // strides, 8 // strides, 4)


def test_select_slice_picks_one_slice_with_a_dense_gradient():
    stacked = tf.Variable(np.arange(12, dtype=np.float32).reshape(3, 2, 2))
    with tf.GradientTape() as tape:
        picked = ops.select_slice(stacked, tf.constant(1))
        loss = tf.reduce_sum(picked)
    np.testing.assert_array_equal(picked.numpy(), stacked.numpy()[1])
    grad = tape.gradient(loss, stacked)
    assert isinstance(grad, tf.Tensor)  # dense, not IndexedSlices
    np.testing.assert_array_equal(
        grad.numpy(), [np.zeros((2, 2)), np.ones((2, 2)), np.zeros((2, 2))]
    )


def test_contract_one_hot_picks_from_a_tensor_or_a_list_like_select_slice():
    stacked = tf.constant(np.arange(12, dtype=np.float32).reshape(3, 2, 2))
    one_hot = tf.one_hot(2, 3)
    np.testing.assert_array_equal(ops.contract_one_hot(one_hot, stacked).numpy(), stacked[2])
    pieces = tf.unstack(stacked)
    np.testing.assert_array_equal(ops.contract_one_hot(one_hot, pieces).numpy(), stacked[2])
    np.testing.assert_array_equal(ops.contract_one_hot(tf.one_hot(0, 1), pieces[:1]), stacked[0])

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
    layer = ops.make_micro_op(op, 4, strides, search=search, name=op, num_inputs=3)
    x = tf.ones([2, 8, 8, 4])
    if isinstance(layer, ops.InputIndexedSepConv):
        out = layer(x, tf.constant(2), training=True)
    else:
        out = layer(x, training=True)
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


def _input_indexed_sep_conv(num_inputs=3):
    layer = ops.InputIndexedSepConv(4, 3, num_inputs=num_inputs, name="sep")
    layer(tf.zeros([2, 6, 6, 4]), tf.constant(0))
    return layer


def test_input_indexed_sep_conv_slices_are_initialised_independently():
    layer = _input_indexed_sep_conv()
    for weights in (layer.depthwise[0], layer.pointwise[1]):
        values = weights.numpy()
        assert not np.allclose(values[0], values[1])
        assert not np.allclose(values[1], values[2])


def test_input_indexed_sep_conv_equals_a_sep_conv_with_the_indexed_weights():
    layer = _input_indexed_sep_conv()
    x = tf.constant(np.random.default_rng(0).normal(size=(2, 6, 6, 4)), tf.float32)
    reference = ops.StackedSepConv(4, 3, search=True, name="ref")
    reference(x)
    for index in range(3):
        for i in range(2):
            reference.convs[i].set_weights(
                [layer.depthwise[i].numpy()[index], layer.pointwise[i].numpy()[index]]
            )
            reference.norms[i].set_weights(
                [layer.gammas[i].numpy()[index], layer.betas[i].numpy()[index]]
            )
        np.testing.assert_allclose(
            layer(x, tf.constant(index)).numpy(), reference(x).numpy(), atol=1e-5
        )


def test_input_indexed_sep_conv_trains_only_the_slice_of_its_input():
    layer = _input_indexed_sep_conv()
    x = tf.constant(np.random.default_rng(1).normal(size=(2, 6, 6, 4)), tf.float32)

    @tf.function
    def grads(index):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(layer(x, index)))
        return tape.gradient(loss, layer.trainable_variables)

    for index in range(3):
        for grad in grads(tf.constant(index)):
            per_slice = np.abs(grad.numpy()).reshape(3, -1).sum(axis=1)
            assert per_slice[index] > 0
            assert np.count_nonzero(per_slice) == 1

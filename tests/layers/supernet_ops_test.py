"""The supernet's functional ops compute what the fixed child's Keras layers compute."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from enas_tf.layers import ops, supernet_ops


def _x(size=8, channels=4, seed=0):
    rng = np.random.default_rng(seed)
    return tf.constant(rng.normal(size=(2, size, size, channels)), tf.float32)


@pytest.mark.parametrize("kernel_size", [3, 5])
@pytest.mark.parametrize("strides", [1, 2])
def test_sep_conv_equals_the_stacked_sep_conv_layer_with_the_same_weights(kernel_size, strides):
    x = _x()
    layer = ops.StackedSepConv(4, kernel_size, strides, search=True, name="sep")
    layer(x)
    rng = np.random.default_rng(1)
    for norm in layer.norms:  # non-trivial scales and offsets
        norm.set_weights([rng.normal(size=4), rng.normal(size=4)])
    weights = []
    for conv, norm in zip(layer.convs, layer.norms, strict=True):
        weights += [conv.depthwise_kernel, conv.pointwise_kernel, norm.gamma, norm.beta]
    shapes = supernet_ops.sep_weight_shapes(kernel_size, 4)
    assert [tuple(w.shape) for w in weights] == list(shapes.values())
    np.testing.assert_allclose(
        supernet_ops.sep_conv(x, weights, strides).numpy(), layer(x).numpy(), atol=1e-5
    )


def test_factorized_reduce_equals_the_layer_with_the_same_weights():
    x = _x(8, 6)
    layer = ops.FactorizedReduce(6, search=True)
    layer(x)
    weights = [layer.convs[0].kernel, layer.convs[1].kernel, layer.norm.gamma, layer.norm.beta]
    assert [tuple(w.shape) for w in weights] == list(supernet_ops.reduce_weight_shapes(6).values())[
        :2
    ] + [(6,), (6,)]
    np.testing.assert_allclose(
        supernet_ops.factorized_reduce(x, weights).numpy(), layer(x).numpy(), atol=1e-5
    )


@pytest.mark.parametrize("size", [5, 8])
@pytest.mark.parametrize("strides", [1, 2])
def test_pools_equal_keras_same_pools(size, strides):
    x = _x(size)
    avg = keras.layers.AveragePooling2D(3, strides=strides, padding="same")(x)
    np.testing.assert_allclose(supernet_ops.avg_pool(x, strides).numpy(), avg.numpy(), atol=1e-6)
    top = keras.layers.MaxPooling2D(3, strides=strides, padding="same")(x)
    np.testing.assert_array_equal(supernet_ops.max_pool(x, strides).numpy(), top.numpy())


def test_select_rows_picks_rows_with_a_dense_gradient_into_them_only():
    stacked = tf.Variable(np.arange(24, dtype=np.float32).reshape(4, 3, 2))
    rows = tf.constant([2, 0, 2])
    with tf.GradientTape() as tape:
        picked = supernet_ops.select_rows(stacked, supernet_ops.row_selector(rows, 4))
        loss = tf.reduce_sum(picked)
    np.testing.assert_array_equal(picked.numpy(), stacked.numpy()[[2, 0, 2]])
    grad = tape.gradient(loss, stacked)
    assert isinstance(grad, tf.Tensor)  # dense, not IndexedSlices
    np.testing.assert_array_equal(grad.numpy()[:, 0, 0], [1.0, 0.0, 2.0, 0.0])


def test_stacked_he_normal_slices_differ_and_have_he_scale():
    init = supernet_ops.stacked_he_normal(3)
    values = init((3, 5, 5, 16, 1)).numpy()
    assert not np.allclose(values[0], values[1])
    # He normal: std = sqrt(2 / fan_in), fan_in = 5 * 5 * 16 (truncated normal: a bit less).
    assert 0.6 * np.sqrt(2 / 400) < values.std() < 1.1 * np.sqrt(2 / 400)


def _assert_max_pool_gradient_equals_keras(x, strides, upstream=None):
    """Our pooling's input gradient equals Keras' (MaxPoolGrad), in a plain and an XLA step."""
    pool = keras.layers.MaxPooling2D(3, strides=strides, padding="same")

    def grad(fn):
        def run(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = fn(x)
                loss = tf.reduce_sum(y * (y if upstream is None else upstream))
            return tape.gradient(loss, x)

        return run

    expected = tf.function(grad(pool))(x).numpy()
    ours = grad(lambda x: supernet_ops.max_pool(x, strides))
    np.testing.assert_allclose(tf.function(ours)(x).numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(tf.function(ours, jit_compile=True)(x).numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("strides", [1, 2])
def test_max_pool_gradient_in_a_plain_and_an_xla_step_equals_keras(strides):
    x = _x(8, 3, seed=7)  # continuous values: no ties, so every max-pool gradient agrees
    _assert_max_pool_gradient_equals_keras(x, strides)


@pytest.mark.parametrize("strides", [1, 2])
def test_max_pool_gradient_routes_ties_to_the_first_maximum_like_keras(strides):
    # Few distinct values, so most windows hold their maximum more than once.
    x = tf.constant(np.random.default_rng(3).integers(0, 3, (2, 6, 6, 2)), tf.float32)
    output_shape = (2, -(-6 // strides), -(-6 // strides), 2)
    upstream = tf.constant(np.random.default_rng(4).normal(size=output_shape), tf.float32)
    _assert_max_pool_gradient_equals_keras(x, strides, upstream)


def test_max_pool_gradient_keeps_only_its_input_for_the_backward_pass():
    # The backward function reads x (and dy), not the forward's shifted slices and maxima.
    x = _x(8, 3, seed=1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = supernet_ops.max_pool(x, 1)
    grad_fn = tf.function(lambda dy: tape.gradient(y, x, output_gradients=dy))
    graph = grad_fn.get_concrete_function(tf.ones_like(y)).graph
    saved = [t for t in graph.captures if t[0].dtype == tf.float32]
    assert [tuple(t[0].shape) for t in saved] == [tuple(x.shape)]

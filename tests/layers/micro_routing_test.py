"""Tests of the micro cell's routing: the input selection's shared-zeros gradient (issue #27)."""

import numpy as np
import pytest
import tensorflow as tf

from enas_tf.layers import micro_routing


def _nodes(count, seed=0):
    rng = np.random.default_rng(seed)
    return [tf.constant(rng.normal(size=(2, 3, 3, 4)), tf.float32) for _ in range(count)]


@pytest.mark.parametrize("chosen", [0, 2, 4])
def test_the_routed_selection_has_tensorflows_value_and_gradient(chosen):
    nodes = _nodes(5)
    upstream = tf.constant(np.random.default_rng(1).normal(size=(2, 3, 3, 4)), tf.float32)

    @tf.function
    def gradients(index, routed):
        with tf.GradientTape() as tape:
            tape.watch(nodes)
            zeros = tf.zeros_like(nodes[0]) if routed else None
            out = micro_routing.select_node(nodes, index, zeros)
            loss = tf.reduce_sum(out * upstream)
        return out, tape.gradient(loss, nodes)

    index = tf.constant(chosen)
    out, routed = gradients(index, True)
    plain_out, plain = gradients(index, False)
    np.testing.assert_array_equal(out.numpy(), nodes[chosen].numpy())
    np.testing.assert_array_equal(plain_out.numpy(), out.numpy())
    for j, (a, b) in enumerate(zip(routed, plain, strict=True)):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"candidate {j}")
        expected = upstream.numpy() if j == chosen else np.zeros_like(upstream.numpy())
        np.testing.assert_array_equal(a.numpy(), expected, err_msg=f"candidate {j}")


def test_one_traced_routed_selection_serves_every_index():
    nodes = _nodes(3)
    zeros = tf.zeros_like(nodes[0])

    @tf.function
    def grad_of(index):
        with tf.GradientTape() as tape:
            tape.watch(nodes)
            loss = tf.reduce_sum(micro_routing.select_node(nodes, index, zeros))
        return tape.gradient(loss, nodes)

    for index in range(3):
        sums = [float(tf.reduce_sum(g)) for g in grad_of(tf.constant(index))]
        assert sums == [72.0 if j == index else 0.0 for j in range(3)]
    assert grad_of.experimental_get_tracing_count() == 1

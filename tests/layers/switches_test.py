"""Tests of `switches.switch`: one branch per index, a `Case` outside XLA, conds inside."""

import numpy as np
import pytest
import tensorflow as tf

from enas_tf.layers import switches


def _branches(x, weights):
    # Each branch uses its own weight, so a gradient shows which branch ran.
    return [lambda w=w, k=k: tf.nn.relu(x * w) + float(k) for k, w in enumerate(weights)]


def _step(jit_compile):
    weights = [tf.Variable(float(k + 1)) for k in range(5)]

    @tf.function(jit_compile=jit_compile)
    def step(index):
        with tf.GradientTape() as tape:
            y = switches.switch(index, _branches(tf.constant([1.0, -2.0]), weights))
            loss = tf.reduce_sum(y)
        return y, tape.gradient(loss, weights, unconnected_gradients="zero")

    return step


@pytest.mark.parametrize("jit_compile", [False, True])
def test_each_index_runs_its_branch_and_only_its_weight_gets_a_gradient(jit_compile):
    step = _step(jit_compile)
    for index in range(5):
        y, grads = step(tf.constant(index))
        np.testing.assert_allclose(y.numpy(), [index + 1.0 + index, index])
        expected = [1.0 if k == index else 0.0 for k in range(5)]
        np.testing.assert_allclose([float(g) for g in grads], expected)


def _op_types(concrete):
    """Op types of a traced function and every function in its library."""
    types = {op.type for op in concrete.graph.get_operations()}
    for function in concrete.graph.as_graph_def().library.function:
        types |= {node.op for node in function.node_def}
    return types


def test_outside_xla_it_is_one_case_op():
    types = _op_types(_step(False).get_concrete_function(tf.TensorSpec([], tf.int32)))
    assert types & {"Case", "StatelessCase"}
    assert not types & {"If", "StatelessIf"}


def test_inside_xla_it_is_conds_whose_operands_xla_does_not_evaluate():
    # The forward switch and the gradient TensorFlow builds for it: no `Case` anywhere, whose
    # XLA kernel would evaluate every operand's upstream graph at compile time (switches.py).
    types = _op_types(_step(True).get_concrete_function(tf.TensorSpec([], tf.int32)))
    assert not types & {"Case", "StatelessCase"}
    assert types & {"If", "StatelessIf"}


def test_a_single_branch_is_called_directly_inside_xla():
    @tf.function(jit_compile=True)
    def one(index):
        return switches.switch(index, [lambda: tf.constant(7.0)])

    assert float(one(tf.constant(0))) == 7.0

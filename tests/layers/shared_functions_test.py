"""Tests of the shared traced switch functions (one per context)."""

import numpy as np
import pytest
import tensorflow as tf

from enas_tf.layers import micro_cells, shared_functions


def test_every_call_site_shares_one_trace_per_signature():
    calls = []

    def double(x):
        calls.append(1)  # runs once per trace
        return 2.0 * x

    shared = shared_functions.shared(double)

    @tf.function
    def many(x):
        return shared(x) + shared(x + 1.0) + shared(x * 3.0)

    assert float(many(tf.constant(1.0))) == 2.0 + 4.0 + 6.0
    assert len(calls) == 1
    assert shared(tf.constant(2.0)).numpy() == 4.0  # eagerly: plain Python, no trace
    assert len(calls) == 2 and list(shared.traced) == [False]


@pytest.mark.slow
def test_a_plain_step_then_an_xla_step_of_the_same_cell_both_run():
    # Regression: the plain step's gradient of a shared switch keeps intermediates in optionals;
    # an XLA step reusing that traced function failed to compile (OptionalFromValue).
    cell = micro_cells.SharedMicroCell(1, 4, reduction=True, reduce_prev_prev=False, name="c")
    rng = np.random.default_rng(0)
    inputs = tuple(tf.constant(rng.normal(size=(2, 8, 8, 4)), tf.float32) for _ in range(2))
    tokens = tf.constant([0, 0, 1, 4], tf.int32)
    cell(inputs, tokens, training=True)

    def grads(tokens):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(cell(inputs, tokens, training=True)))
        return tape.gradient(loss, cell.trainable_variables, unconnected_gradients="zero")

    plain = tf.function(grads)(tokens)
    compiled = tf.function(grads, jit_compile=True)(tokens)
    for a, b in zip(plain, compiled, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-4)

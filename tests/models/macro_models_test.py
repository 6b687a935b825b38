"""Tests of the macro supernet and fixed network: one trace for every arc, real ops, shapes."""

import numpy as np
import pytest
import tensorflow as tf

from enas_tf.models.macro import MacroChild, MacroSupernet, macro_pool_after, macro_widths
from enas_tf.spaces import macro

SHAPE = (12, 12, 3)


def test_pooling_positions_and_widths_follow_the_authors_network():
    assert macro_pool_after(12) == (4, 8)
    assert macro_pool_after(24) == (8, 16)
    assert macro_pool_after(2) == ()
    # Stem + 24 layers; width doubles after layers 8 and 16 in the final network only.
    widths = macro_widths(24, 96, double_filters=True)
    assert widths[:9] == [96] * 9 and widths[9:17] == [192] * 8 and widths[17:] == [384] * 8
    assert macro_widths(12, 36, double_filters=False) == [36] * 13


@pytest.fixture(scope="module")
def supernet():
    net = MacroSupernet(num_classes=10, num_layers=4, filters=4, name="supernet")
    net.materialize(SHAPE)
    return net


@pytest.mark.slow
def test_one_trace_serves_twenty_arcs_and_routes_by_them(supernet):
    rng = np.random.default_rng(0)
    images = tf.constant(rng.normal(size=(4, *SHAPE)), tf.float32)
    variables = supernet.trainable_variables

    @tf.function
    def step(tokens):
        with tf.GradientTape() as tape:
            logits, aux = supernet(images, tokens, training=True)
            loss = tf.reduce_sum(logits * logits)
        return logits, tape.gradient(loss, variables)

    outputs = {}
    for _ in range(20):
        arc = macro.sample_random_arc(4, rng)
        logits, grads = step(tf.constant(arc.to_tokens(), tf.int32))
        outputs[tuple(arc.to_tokens())] = logits.numpy()
        # Branches of ops the arc does not use get zero gradient (layer by layer).
        for layer, spec in zip(supernet.macro_layers, arc.layers, strict=True):
            for branch_op, branch in zip(macro.OPS, layer.branches, strict=True):
                norms = [
                    float(tf.reduce_max(tf.abs(g)))
                    for v, g in zip(variables, grads, strict=True)
                    if any(v is w for w in branch.trainable_variables)
                ]
                assert (max(norms) > 0) == (branch_op == spec.op), (layer.name, branch_op)
    assert step.experimental_get_tracing_count() == 1
    distinct = list(outputs.values())
    assert len(distinct) == 20
    assert not np.allclose(distinct[0], distinct[1])


def test_skip_bits_alone_change_the_supernet_output(supernet):
    images = tf.constant(np.random.default_rng(1).normal(size=(4, *SHAPE)), tf.float32)
    tokens = macro.MacroArc.from_string("0 1 1 2 0 1 3 1 0 1").to_tokens()
    flipped = list(tokens)
    flipped[-1] = 0  # layer 4's skip to layer 2
    a, _ = supernet(images, tf.constant(tokens), training=True)
    b, _ = supernet(images, tf.constant(flipped), training=True)
    assert not np.allclose(a.numpy(), b.numpy(), atol=1e-5)


@pytest.mark.slow
def test_fixed_network_of_the_published_arc():
    arc = macro.PUBLISHED["enas_macro_final"]
    child = MacroChild(arc, num_classes=10, filters=4, name="child")
    logits, aux = child(tf.zeros([2, 32, 32, 3]), training=False)
    assert logits.shape == (2, 10) and aux is None
    assert len(child.macro_layers) == 24
    ops = [layer.branch.op for layer in child.macro_layers]
    assert ops == [spec.op for spec in arc.layers]
    # The 1x1 skip projection of layer k reads the selected sources plus the op output.
    for layer, spec in zip(child.macro_layers[1:], arc.layers[1:], strict=True):
        width = layer.filters
        assert layer.combine.proj.kernel.shape[2] == (sum(spec.skips) + 1) * width


def test_the_fixed_network_matches_the_supernet_shapes_at_the_search_width():
    arc = macro.sample_random_arc(4, np.random.default_rng(2))
    child = MacroChild(arc, num_classes=10, filters=4, double_filters=False, name="child")
    supernet = MacroSupernet(num_classes=10, num_layers=4, filters=4, name="supernet")
    supernet.materialize(SHAPE)
    images = tf.zeros([2, *SHAPE])
    child(images, training=True)
    # Same layer widths; the supernet has every op's weights, the child only the arc's.
    assert child.widths == supernet.widths
    assert child.count_params() < supernet.count_params()

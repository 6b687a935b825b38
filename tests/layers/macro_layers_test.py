"""Tests of the macro layers: routing by op token and skip bits, and the fixed layer."""

import numpy as np
import pytest
import tensorflow as tf

from enas_tf.layers.macro_layers import (
    FixedMacroLayer,
    MacroBranch,
    SharedMacroLayer,
    branch_forward,
)
from enas_tf.spaces import macro

FILTERS = 4


def _inputs(num, seed=0):
    rng = np.random.default_rng(seed)
    return [tf.constant(rng.normal(size=(3, 6, 6, FILTERS)), tf.float32) for _ in range(num)]


def _materialized(layer: SharedMacroLayer, inputs):
    layer.materializing = True
    layer(inputs, tf.constant(0), tf.zeros([macro.num_skips(layer.layer)], tf.int32), training=True)
    layer.materializing = False
    return layer


def test_every_op_id_gives_a_different_computation():
    # The authors' search code wrapped each branch as `lambda: y` in a loop, so every op id
    # returned the last branch's output; here every pair of op ids must differ.
    inputs = _inputs(3)
    layer = _materialized(SharedMacroLayer(3, FILTERS, macro.OPS), inputs)
    bits = tf.constant([1, 0], tf.int32)
    outputs = [layer(inputs, tf.constant(op), bits, training=True).numpy() for op in range(6)]
    for a in range(6):
        for b in range(a + 1, 6):
            assert not np.allclose(outputs[a], outputs[b], atol=1e-4), (
                f"{macro.OPS[a]} and {macro.OPS[b]} gave the same output"
            )
    # And each routed output is that branch run on its own, then the skip combination.
    for op in range(6):
        alone = layer.branches[op](inputs[-1], training=True)
        expected = layer.combine([inputs[0], inputs[1] * 0.0, alone], training=True)
        np.testing.assert_allclose(outputs[op], expected.numpy(), rtol=1e-4, atol=1e-4)


def test_gradients_flow_only_into_the_chosen_branch():
    inputs = _inputs(2)
    layer = _materialized(SharedMacroLayer(2, FILTERS, macro.OPS), inputs)
    for op in (0, 3):
        with tf.GradientTape() as tape:
            out = layer(inputs, tf.constant(op), tf.constant([1]), training=True)
            loss = tf.reduce_sum(out * out)
        grads = tape.gradient(
            loss, [v for branch in layer.branches for v in branch.trainable_variables]
        )
        position = 0
        for index, branch in enumerate(layer.branches):
            for _ in branch.trainable_variables:
                grad = grads[position]
                position += 1
                nonzero = grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0
                assert nonzero == (index == op), f"op {op}: branch {macro.OPS[index]}"


def test_skip_bits_change_the_output_and_match_the_fixed_concatenation():
    # The masked form of the shared layer equals the fixed layer's concatenation of only the
    # selected sources, given the matching rows of the 1x1 projection.
    inputs = _inputs(4, seed=1)
    shared = _materialized(SharedMacroLayer(4, FILTERS, macro.OPS), inputs)
    op, bits = 2, (1, 0, 1)
    routed = shared(inputs, tf.constant(op), tf.constant(bits), training=True).numpy()
    other = shared(inputs, tf.constant(op), tf.constant([0, 0, 1]), training=True).numpy()
    assert not np.allclose(routed, other, atol=1e-4)

    fixed = FixedMacroLayer(4, FILTERS, macro.OPS[op], bits)
    fixed(inputs, training=True)
    for source, target in zip(
        shared.branches[op].trainable_variables, fixed.branch.trainable_variables, strict=True
    ):
        target.assign(source)
    kernel = shared.combine.proj.kernel.numpy()  # [1, 1, 4 * F, F]: sources 0, 1, 2, then op
    blocks = [kernel[:, :, j * FILTERS : (j + 1) * FILTERS] for j in (0, 2, 3)]
    fixed.combine.proj.kernel.assign(np.concatenate(blocks, axis=2))
    np.testing.assert_allclose(fixed(inputs, training=True).numpy(), routed, rtol=1e-4, atol=1e-4)


def test_unselected_skip_sources_get_no_gradient_in_a_traced_step():
    # Each source is projected under a cond on its bit: in a compiled step an unselected
    # source's block of the 1x1 kernel, and the source itself, get exactly zero gradient.
    inputs = _inputs(4, seed=2)
    layer = _materialized(SharedMacroLayer(4, FILTERS, macro.OPS), inputs)

    @tf.function
    def grads(bits):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            out = layer(inputs, tf.constant(0), bits, training=True)
            loss = tf.reduce_sum(out * out)
        return tape.gradient(loss, [layer.combine.proj.kernel, *inputs])

    kernel_grad, *input_grads = grads(tf.constant([1, 0, 1]))
    block_norms = [
        float(tf.reduce_max(tf.abs(kernel_grad[:, :, j * FILTERS : (j + 1) * FILTERS])))
        for j in range(4)
    ]
    assert block_norms[1] == 0.0 and min(block_norms[0], block_norms[2], block_norms[3]) > 0
    assert float(tf.reduce_max(tf.abs(input_grads[1]))) == 0.0
    assert float(tf.reduce_max(tf.abs(input_grads[0]))) > 0


@pytest.mark.parametrize("op", macro.OPS)
def test_fixed_branches_build_the_real_op(op):
    branch = MacroBranch(op, FILTERS, search=False)
    branch(_inputs(1)[0], training=False)
    expected = {
        "conv_3x3": "Conv2D",
        "conv_5x5": "Conv2D",
        "sep_conv_3x3": "SeparableConv2D",
        "sep_conv_5x5": "SeparableConv2D",
        "avg_pool_3x3": "AveragePooling2D",
        "max_pool_3x3": "MaxPooling2D",
    }[op]
    assert type(branch.body).__name__ == expected
    if op.startswith("conv"):
        assert branch.body.kernel.shape[0] == int(op[-1])


@pytest.mark.parametrize("op", macro.OPS)
def test_the_functional_branch_equals_the_keras_branch(op):
    branch = MacroBranch(op, FILTERS, search=True, name=op)
    x = tf.constant(np.random.default_rng(5).normal(size=(2, 8, 8, FILTERS)), tf.float32)
    branch(x, training=True)  # builds it
    rng = np.random.default_rng(6)
    for weight in branch.weights:  # non-trivial norm scales and offsets too
        weight.assign(weight.numpy() + 0.1 * rng.normal(size=weight.shape))
    expected = branch(x, training=True).numpy()
    got = branch_forward(op, x, branch.weight_tensors()).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)

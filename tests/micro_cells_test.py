"""Tests of the shared (routed) and fixed micro cells."""

import numpy as np
import pytest
import tensorflow as tf

from enas_tf.layers import micro_cells
from enas_tf.spaces import micro

FILTERS = 4
NUM_NODES = 2


def _inputs(seed=0, size=8):
    rng = np.random.default_rng(seed)
    shape = (2, size, size, FILTERS)
    return (
        tf.constant(rng.normal(size=shape), tf.float32),
        tf.constant(rng.normal(size=shape), tf.float32),
    )


def _built_cell(reduction=False):
    cell = micro_cells.SharedMicroCell(
        NUM_NODES, FILTERS, reduction=reduction, reduce_prev_prev=False, name="cell"
    )
    cell.materializing = True
    cell(_inputs(), tf.zeros([4 * NUM_NODES], tf.int32), training=True)
    cell.materializing = False
    return cell


def test_select_node_picks_the_indexed_tensor():
    nodes = [tf.fill([2], float(i)) for i in range(4)]
    for index in range(4):
        out = micro_cells.select_node(nodes, tf.constant(index))
        np.testing.assert_array_equal(out.numpy(), [index, index])


def test_loose_end_mask_marks_unused_nodes():
    # Node 2 uses inputs 0 and 1; node 3 uses node 2 and input 1; node 4 uses 0 and 1.
    tokens = tf.constant([0, 0, 1, 1, 2, 0, 1, 1, 0, 2, 1, 3], tf.int32)
    mask = micro_cells.loose_end_mask(tokens, 3)
    np.testing.assert_array_equal(mask.numpy(), [0.0, 1.0, 1.0])


@pytest.mark.parametrize("reduction", [False, True])
def test_every_branch_variable_exists_before_the_first_step(reduction):
    cell = _built_cell(reduction)
    for node in cell.branches:
        for side in node:
            for layer in side:
                assert layer.built, layer.name
    assert cell.output_proj.built


def test_different_op_ids_give_different_outputs():
    cell = _built_cell()
    inputs = _inputs(1)
    outputs = {}
    for op in range(len(micro.OPS)):
        # Node 2 = op(input 0) + identity(input 1); node 3 reads only the cell inputs, so
        # node 2 is a loose end and reaches the output.
        tokens = tf.constant([0, op, 1, 4, 0, 4, 1, 4], tf.int32)
        outputs[op] = cell(inputs, tokens, training=True).numpy()
    for a in range(len(micro.OPS)):
        for b in range(a + 1, len(micro.OPS)):
            assert not np.allclose(outputs[a], outputs[b], atol=1e-5), (
                micro.OPS[a],
                micro.OPS[b],
            )


def _gradients_by_branch(cell, tokens):
    inputs = _inputs(2)
    variables = cell.trainable_variables

    @tf.function
    def grads(tokens):
        with tf.GradientTape() as tape:
            out = cell(inputs, tokens, training=True)
            loss = tf.reduce_sum(tf.square(out))
        return tape.gradient(loss, variables, unconnected_gradients="zero")

    values = grads(tf.constant(tokens, tf.int32))
    by_ref = {v.path: g.numpy() for v, g in zip(variables, values, strict=True)}
    return {
        (p, side, i): [by_ref[v.path] for v in layer.trainable_variables]
        for p, node in enumerate(cell.branches)
        for side, layers in enumerate(node)
        for i, layer in enumerate(layers)
    }


@pytest.mark.parametrize("reduction", [False, True])
def test_gradients_flow_only_into_the_chosen_branches(reduction):
    cell = _built_cell(reduction)
    # Sep convs everywhere so that every chosen branch has weights:
    # node 2 = sep3(input 0) + sep5(input 1); node 3 = sep3(node 2) + sep5(input 0).
    tokens = [0, 0, 1, 1, 2, 0, 0, 1]
    grads = _gradients_by_branch(cell, tokens)
    num_ops = len(micro.OPS)
    chosen = {(0, 0, 0), (0, 1, 1), (1, 1, 1)}
    # Node 3 side a reads node 2 (index 2): in a reduction cell that is the stride-1 copy.
    chosen.add((1, 0, num_ops if reduction else 0))
    for key, values in grads.items():
        if not values:
            continue  # pooling / stride-1 identity have no weights
        total = sum(float(np.abs(v).sum()) for v in values)
        if key in chosen:
            assert total > 0.0, f"chosen branch {key} got no gradient"
        else:
            assert total == 0.0, f"unchosen branch {key} got gradient {total}"


def test_fixed_cell_builds_only_the_arcs_ops():
    arc = micro.PUBLISHED["enas_micro_final"]
    progress = tf.Variable(0.0, trainable=False)
    cell = micro_cells.FixedMicroCell(
        arc.normal,
        FILTERS,
        reduction=False,
        reduce_prev_prev=False,
        drop_path_keep_prob=0.9,
        depth_fraction=0.5,
        progress=progress,
    )
    out = cell(_inputs(), training=True)
    assert len(cell.ops) == 2 * len(arc.normal.nodes)
    assert out.shape[-1] == FILTERS * len(arc.normal.loose_ends())


def test_one_traced_step_routes_gradients_by_the_arc_it_is_called_with():
    # A stale branch index (e.g. captured at trace time) would pass the per-call test above but
    # send every later gradient to the first arc's branches.
    cell = _built_cell()
    inputs = _inputs(2)
    variables = cell.trainable_variables

    @tf.function
    def grads(tokens):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(cell(inputs, tokens, training=True)))
        return tape.gradient(loss, variables, unconnected_gradients="zero")

    def branches_with_gradient(tokens):
        values = grads(tf.constant(tokens, tf.int32))
        by_path = {v.path: g.numpy() for v, g in zip(variables, values, strict=True)}
        return {
            (p, side, i)
            for p, node in enumerate(cell.branches)
            for side, layers in enumerate(node)
            for i, layer in enumerate(layers)
            if any(np.abs(by_path[v.path]).sum() > 0 for v in layer.trainable_variables)
        }

    assert branches_with_gradient([0, 0, 1, 1, 2, 0, 0, 1]) == {
        (0, 0, 0),
        (0, 1, 1),
        (1, 0, 0),
        (1, 1, 1),
    }
    assert branches_with_gradient([0, 1, 1, 0, 2, 1, 0, 0]) == {
        (0, 0, 1),
        (0, 1, 0),
        (1, 0, 1),
        (1, 1, 0),
    }
    assert grads.experimental_get_tracing_count() == 1

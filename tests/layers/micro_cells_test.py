"""Tests of the shared (routed) and fixed micro cells."""

import numpy as np
import pytest
import tensorflow as tf

from enas_tf.layers import micro_cells, micro_routing
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
    cell(_inputs(), tf.zeros([4 * NUM_NODES], tf.int32), training=True)
    return cell


def test_select_node_picks_the_indexed_tensor():
    nodes = [tf.fill([2], float(i)) for i in range(4)]
    for index in range(4):
        out = micro_routing.select_node(nodes, tf.constant(index))
        np.testing.assert_array_equal(out.numpy(), [index, index])


def test_loose_end_mask_marks_unused_nodes():
    # Node 2 uses inputs 0 and 1; node 3 uses node 2 and input 1; node 4 uses 0 and 1.
    tokens = tf.constant([0, 0, 1, 1, 2, 0, 1, 1, 0, 2, 1, 3], tf.int32)
    mask = micro_cells.loose_end_mask(tokens, 3)
    np.testing.assert_array_equal(mask.numpy(), [0.0, 1.0, 1.0])


@pytest.mark.parametrize("reduction", [False, True])
def test_every_branch_variable_exists_before_the_first_step(reduction):
    cell = _built_cell(reduction)
    # One row per (node, side, input) slot: node 2 reads 2 nodes, node 3 three, per side.
    assert cell.num_slots == 2 * (2 + 3)
    for op, stacks in cell.sep_stacks.items():
        kernel = 3 if op == "sep_conv_3x3" else 5
        assert stacks[0].shape == (cell.num_slots, kernel, kernel, FILTERS, 1)
        assert stacks[2].shape == (cell.num_slots * FILTERS,)  # flat: not l2-decayed
    assert (cell.reduce_stacks is not None) == reduction
    assert cell.output_proj.built
    before = len(cell.weights)
    cell(_inputs(3), tf.constant([1, 3, 0, 4, 2, 1, 1, 2], tf.int32), training=True)
    assert len(cell.weights) == before


def test_stacked_slots_are_initialised_independently():
    cell = _built_cell()
    for stack in (cell.sep_stacks["sep_conv_3x3"][0], cell.sep_stacks["sep_conv_5x5"][1]):
        values = stack.numpy()
        assert not np.allclose(values[0], values[1])
        assert not np.allclose(values[1], values[2])


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


def _slot_gradients(cell, grads_by_path):
    """{(node, side, op, input): summed |gradient| of that branch's weight rows}.

    Separable convs have one row per (node, side, input) slot; a reduction cell's stride-2
    identity (factorized reduction) one row per (node, side), keyed with input None.
    """
    out = {}
    for op, stacks in cell.sep_stacks.items():
        for p in range(NUM_NODES):
            for side in range(2):
                for i in range(p + 2):
                    slot = cell.slot(p + 2, side, i)
                    out[(p + 2, side, op, i)] = sum(
                        float(np.abs(grads_by_path[s.path].reshape(cell.num_slots, -1)[slot]).sum())
                        for s in stacks
                    )
    for stacks in [cell.reduce_stacks] if cell.reduce_stacks else []:
        for p in range(NUM_NODES):
            for side in range(2):
                out[(p + 2, side, "identity", None)] = sum(
                    float(
                        np.abs(grads_by_path[s.path].reshape(2 * NUM_NODES, -1)[2 * p + side]).sum()
                    )
                    for s in stacks
                )
    return out


def _gradient_fn(cell, inputs):
    variables = cell.trainable_variables

    @tf.function
    def grads(tokens):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(cell(inputs, tokens, training=True)))
        return tape.gradient(loss, variables, unconnected_gradients="zero")

    def by_path(tokens):
        values = grads(tf.constant(tokens, tf.int32))
        return {v.path: g.numpy() for v, g in zip(variables, values, strict=True)}

    return grads, by_path


@pytest.mark.parametrize("reduction", [False, True])
def test_gradients_flow_only_into_the_chosen_branches(reduction):
    cell = _built_cell(reduction)
    _, by_path = _gradient_fn(cell, _inputs(2))
    # node 2 = sep3(input 0) + sep5(input 1); node 3 = sep3(node 2) + identity(input 0)
    # (in a reduction cell the identity of a cell input is a factorized reduction).
    grads = _slot_gradients(cell, by_path([0, 0, 1, 1, 2, 0, 0, 4]))
    chosen = {(2, 0, "sep_conv_3x3", 0), (2, 1, "sep_conv_5x5", 1), (3, 0, "sep_conv_3x3", 2)}
    if reduction:
        chosen.add((3, 1, "identity", None))
    for key, total in grads.items():
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
    grads, by_path = _gradient_fn(cell, _inputs(2))

    def branches_with_gradient(tokens):
        return {key for key, total in _slot_gradients(cell, by_path(tokens)).items() if total}

    assert branches_with_gradient([0, 0, 1, 1, 2, 0, 0, 1]) == {
        (2, 0, "sep_conv_3x3", 0),
        (2, 1, "sep_conv_5x5", 1),
        (3, 0, "sep_conv_3x3", 2),
        (3, 1, "sep_conv_5x5", 0),
    }
    assert branches_with_gradient([0, 1, 1, 0, 2, 1, 0, 0]) == {
        (2, 0, "sep_conv_5x5", 0),
        (2, 1, "sep_conv_3x3", 1),
        (3, 0, "sep_conv_5x5", 2),
        (3, 1, "sep_conv_3x3", 0),
    }
    assert grads.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("reduction", [False, True])
def test_the_traced_cell_output_equals_the_masked_concatenation(reduction):
    """In a traced step the output projection is a sum of per-node convolutions under conds on
    the loose-end bits (`_routed_output`); the eager, variable-making call projects the masked
    concatenation. Same value."""
    cell = _built_cell(reduction)
    inputs = _inputs(5)
    for tokens in ([1, 3, 0, 4, 2, 1, 1, 2], [0, 0, 1, 1, 0, 2, 1, 3]):
        arc = tf.constant(tokens, tf.int32)
        eager = cell(inputs, arc, training=True)
        traced = tf.function(lambda x, a: cell(x, a, training=True))(inputs, arc)
        np.testing.assert_allclose(traced.numpy(), eager.numpy(), rtol=1e-5, atol=1e-5)


def test_every_node_of_a_reduction_cell_switches_through_one_traced_function():
    """The first node, which cannot select a computed node, gets a zero stand-in for one, so
    its op switch is the other nodes' traced function, not a second one (issue #27)."""
    cell = _built_cell(reduction=True)
    inputs = _inputs(6, size=10)  # a shape no other test traces
    switch = micro_routing._shared_switch_op
    before = switch.traced[False].experimental_get_tracing_count() if False in switch.traced else 0
    tokens = tf.constant([1, 3, 0, 4, 2, 1, 1, 2], tf.int32)
    traced = tf.function(lambda x, a: cell(x, a, training=True))(inputs, tokens)
    assert switch.traced[False].experimental_get_tracing_count() - before == 1
    eager = cell(inputs, tokens, training=True)
    np.testing.assert_allclose(traced.numpy(), eager.numpy(), rtol=1e-5, atol=1e-5)

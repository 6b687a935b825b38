"""Routing inside a shared micro cell: input selection and op switch.

`cell_dag` computes a cell's nodes for an int32 arc: each (node, side) picks its input
(`select_node`, a switch over identities) and applies its op (a switch over the functional
branches of `supernet_ops`); both are `switches.switch`, `tf.switch_case` outside XLA. Both
switches are traced once per signature and shared by every call site
(`shared_functions.shared`), so the graph does not grow with cells x nodes x sides.

What the selection costs: TensorFlow's gradient of a switch over identities returns a new
full-size zero tensor for every unchosen candidate; at the paper's batch (160) that was ~1.4 GB
of the search step's peak memory and ~170 ms of its time (an ablation, issue #27). Outside XLA
the selection's gradient therefore hands all unchosen candidates one zero tensor per cell and
shape (`_routed_select`); XLA builds no such tensors. BUILD_NOTES.md has the measurements, and
the written-out cell gradients that were tried before and dropped.
"""

from __future__ import annotations

import functools

import tensorflow as tf

from enas_tf.layers import shared_functions, supernet_ops, switches
from enas_tf.spaces.micro import OPS

SEP_KERNELS = {"sep_conv_3x3": 3, "sep_conv_5x5": 5}


def select_node(nodes, index, zeros=None):
    """Returns `nodes[index]` for an int32 tensor index, without stacking (no copies).

    A switch over identities. Measured alternatives (BUILD_NOTES.md): gathering from a stack
    copies every candidate forwards and backwards; a one-hot weighted sum touches every
    candidate; a `tf.TensorArray` read records no gradient for the tape.

    Args:
      nodes: the candidates (one shape).
      index: int32 scalar.
      zeros: optional zero tensor of the candidates' shape. Given, the gradient of every
        unchosen candidate is this one tensor (`_routed_select`) instead of a new zero tensor
        per candidate and selection.
    """
    if len(nodes) == 1:
        return nodes[0]
    if zeros is None:
        return _shared_switch_node(nodes, index)
    return _shared_routed_select(nodes, index, zeros)


def _switch_node(nodes, index):
    return switches.switch(index, [functools.partial(tf.identity, node) for node in nodes])


def _routed_select(nodes, index, zeros):
    """`_switch_node` whose gradient passes `dy` to the chosen node and `zeros` to the others.

    TensorFlow's own gradient of the switch returns a new full-size zero tensor for every
    unchosen candidate (30 of the 40 selections' outputs in a 5-node cell), allocated, filled
    and kept until each node's gradients are summed: at batch 160 the paper micro search step
    spent ~1.4 GB of its peak memory and ~170 ms on them (an ablation, BUILD_NOTES.md, issue
    #27). Returning one zero tensor shared by the whole cell computes the same sums.
    """

    @tf.custom_gradient
    def select(*candidates):
        def grad(dy):
            count = len(candidates)
            placed = [
                functools.partial(_placed_gradient, dy, zeros, chosen, count)
                for chosen in range(count)
            ]
            return tf.switch_case(index, placed)

        return _switch_node(candidates, index), grad

    return select(*nodes)


def _placed_gradient(dy, zeros, chosen: int, count: int):
    return [tf.identity(dy if j == chosen else zeros) for j in range(count)]


_shared_switch_node = shared_functions.shared(_switch_node)
_shared_routed_select = shared_functions.shared(_routed_select)


def _branches(x, strides, sep_weights, reduce_weights):
    """Zero-argument callables, one per op of `OPS`, applying it to `x`."""
    calls = []
    for op in OPS:
        if op in SEP_KERNELS:
            calls.append(lambda w=sep_weights[op]: supernet_ops.sep_conv(x, w, strides))
        elif op == "avg_pool_3x3":
            calls.append(lambda: supernet_ops.avg_pool(x, strides))
        elif op == "max_pool_3x3":
            calls.append(lambda: supernet_ops.max_pool(x, strides))
        elif strides == 1:  # identity
            calls.append(lambda: tf.identity(x))
        else:
            calls.append(lambda: supernet_ops.factorized_reduce(x, reduce_weights))
    return calls


def _switch_op(outer, inner, index, op, sep_weights, reduce_weights):
    """Applies the arc's op of one (node, side) to its selected input.

    Args:
      outer: the selected input; in a reduction cell, the selected *cell input* (used with
        stride 2 when `index` < 2).
      inner: reduction cells with computed nodes: the selected computed node (stride 1,
        used when `index` >= 2); else None.
      index, op: int32 scalars from the arc.
      sep_weights: {sep op name: its eight slot weights} for this (node, side, input).
      reduce_weights: a reduction cell's factorized-reduction weights for this (node, side);
        None in a normal cell.
    """
    if reduce_weights is None:
        return switches.switch(op, _branches(outer, 1, sep_weights, None))
    calls = _branches(outer, 2, sep_weights, reduce_weights)
    if inner is not None:
        calls += _branches(inner, 1, sep_weights, None)
    return switches.switch(op + len(OPS) * tf.cast(index >= 2, op.dtype), calls)


# One traced function per signature (stage shape, cell type): 6 in the paper's search model.
_shared_switch_op = shared_functions.shared(_switch_op)


def cell_dag(prev_prev, prev, input_ids, op_ids, weights, *, reduction):
    """The computed nodes of a shared micro cell.

    Args:
      prev_prev, prev: the calibrated cell inputs (same shape).
      input_ids, op_ids: int32 [num_nodes, 2] from the arc.
      weights: {sep op name: 8 lists (`SEP_WEIGHTS`) of 2 * num_nodes slot tensors, one per
        (node, side)} and, in a reduction cell, "reduce": 4 lists (`REDUCE_WEIGHTS`) of the
        same length.
      reduction: whether the cell is a reduction cell.

    Returns:
      The list of the cell's `num_nodes` computed nodes.
    """
    num_nodes = int(input_ids.shape[0])
    nodes = [prev_prev, prev]
    # Outside XLA one zero tensor per shape serves as the gradient of every unchosen candidate
    # (`_routed_select`); XLA builds no zero tensors for a switch's gradient in the first place.
    shared_zeros = not shared_functions.in_xla_context()
    zeros = {}

    def select(candidates, index):
        if not shared_zeros or len(candidates) == 1:
            return select_node(candidates, index)
        shape = tuple(candidates[0].shape)
        if shape not in zeros:
            zeros[shape] = tf.zeros_like(candidates[0])
        return select_node(candidates, index, zeros[shape])

    # A reduction cell's first node has no computed node to read; outside XLA it gets a zero
    # stand-in of the computed nodes' shape (never selected: its index is < 2), so its op
    # switch is the same traced function as the other nodes' instead of one of its own.
    stand_in = None
    if reduction and shared_zeros and None not in prev.shape[1:]:
        batch, (height, width, channels) = tf.shape(prev)[0], prev.shape[1:]
        stand_in = tf.zeros([batch, (height + 1) // 2, (width + 1) // 2, channels], prev.dtype)
    for p in range(num_nodes):
        node = 0.0
        for side in range(2):
            j = 2 * p + side
            index, op = input_ids[p, side], op_ids[p, side]
            sep_weights = {name: [stack[j] for stack in weights[name]] for name in SEP_KERNELS}
            reduce_weights = [stack[j] for stack in weights["reduce"]] if reduction else None
            if not reduction:
                outer, inner = select(nodes, index), None
            else:
                outer = select(nodes[:2], tf.minimum(index, 1))
                if p > 0:
                    inner = select(nodes[2:], tf.maximum(index - 2, 0))
                else:
                    inner = stand_in
            node += _shared_switch_op(outer, inner, index, op, sep_weights, reduce_weights)
        nodes.append(node)
    return nodes[2:]

"""Micro-space cells: the shared (routed) cell of the supernet and the fixed cell of one arc.

A cell has two inputs (the outputs of the two previous cells, calibrated to `filters` channels
at the cell's input resolution) and `num_nodes` computed nodes; node k adds `op_a(h[input_a])`
and `op_b(h[input_b])`. The cell output concatenates the loose ends (nodes no later node uses).

Shared cell routing (DESIGN.md rules 1-4): the arc arrives as an int32 tensor. The separable
convs keep one weight set per (node, side, input node) *slot*, as the original code does
(`w[prev_cell]`), all slots of a kind in one stacked variable per cell; the cell picks the slots
of its arc with one contraction per stack (`supernet_ops.select_rows`). A node's input is picked
by a switch over identities (`select_node`), and its op is one `tf.switch_case` over
small functional branches (`enas_tf.layers.supernet_ops`). Every variable exists after `build`,
before the first step. Loose ends are concatenated in a fixed-shape form: every computed node,
multiplied by a 0/1 mask, then the 1x1 projection back to `filters` channels. This equals the
original code's gather of the loose ends followed by a 1x1 conv with the matching rows of the
weight, but its shape does not depend on the arc.

Why this layout (issue #12, measured in BUILD_NOTES.md): one Keras layer per (node, side, op)
with a switch over identities to pick the input made a graph, a variable list and an optimizer
update that grew with nodes x sides x ops x inputs; the paper's search model took minutes to
trace and stepped 1.29x slower than its fixed child.
"""

from __future__ import annotations

import functools

import keras
import tensorflow as tf

from enas_tf.layers import supernet_ops
from enas_tf.layers.norm import DropPath
from enas_tf.layers.ops import FactorizedReduce, ReluConvBN, make_micro_op
from enas_tf.spaces.micro import OPS, MicroCell

_SEP_KERNELS = {"sep_conv_3x3": 3, "sep_conv_5x5": 5}


def select_node(nodes, index):
    """Returns `nodes[index]` for an int32 tensor index, without stacking (no copies).

    A switch over identities. Measured alternatives (BUILD_NOTES.md): gathering from a stack
    copies every candidate forwards and backwards; a one-hot weighted sum touches every
    candidate; a `tf.TensorArray` read records no gradient for the tape.
    """
    if len(nodes) == 1:
        return nodes[0]
    if tf.executing_eagerly():
        return _switch_node(nodes, index)
    return _traced_switch_node(nodes, index)


def _switch_node(nodes, index):
    return tf.switch_case(index, [functools.partial(tf.identity, node) for node in nodes])


# One function per (shape, number of candidates), shared by every call site (see
# `_traced_switch_op` below for why, and why not inlined).
_traced_switch_node = tf.function(
    _switch_node, autograph=False, experimental_attributes={"_noinline": True}
)


def loose_end_mask(cell_tokens, num_nodes: int):
    """float32 [num_nodes]: 1 for computed nodes that no later node of the cell uses."""
    inputs = tf.reshape(cell_tokens, [num_nodes, 4])[:, 0::2]
    node_ids = tf.range(2, num_nodes + 2, dtype=inputs.dtype)
    used = tf.reduce_any(tf.equal(inputs[:, :, None], node_ids[None, None, :]), axis=[0, 1])
    return 1.0 - tf.cast(used, tf.float32)


def _branches(x, strides, sep_weights, reduce_weights):
    """Zero-argument callables, one per op of `OPS`, applying it to `x`."""
    calls = []
    for op in OPS:
        if op in _SEP_KERNELS:
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
        return tf.switch_case(op, _branches(outer, 1, sep_weights, None))
    calls = _branches(outer, 2, sep_weights, reduce_weights)
    if inner is not None:
        calls += _branches(inner, 1, sep_weights, None)
    return tf.switch_case(op + len(OPS) * tf.cast(index >= 2, op.dtype), calls)


# Traced once per distinct signature (stage shape and cell type: 7 in the paper's search
# model) and called from every (cell, node, side) of that signature: the step's graph holds
# one copy of each op switch and of its gradient instead of one per call site (issue #12: 2,072
# branch functions and 66k function nodes for the paper's search model before). `_noinline`
# keeps it a function call at run time too: inlined into every call site (and its switches
# lowered to Switch/Merge there), the first step spent ~45 s building the executor of the
# expanded graph, for ~2% faster steps (BUILD_NOTES.md). XLA inlines it when compiling.
_traced_switch_op = tf.function(
    _switch_op, autograph=False, experimental_attributes={"_noinline": True}
)


def route(nodes, index, op, sep_weights, reduce_weights, reduction: bool):
    """One side of one node: picks its input among `nodes` and applies its op.

    In a reduction cell an op applied to one of the two cell inputs (`nodes[:2]`) runs with
    stride 2 and an op applied to a computed node with stride 1: the switch index is
    `op + 5 * (index >= 2)`.
    """
    if not reduction:
        outer, inner = select_node(nodes, index), None
    else:
        outer = select_node(nodes[:2], tf.minimum(index, 1))
        inner = select_node(nodes[2:], tf.maximum(index - 2, 0)) if len(nodes) > 2 else None
    switch = _switch_op if tf.executing_eagerly() else _traced_switch_op
    return switch(outer, inner, index, op, sep_weights, reduce_weights)


class CellInputs(keras.layers.Layer):
    """Brings the two previous cells' outputs to `filters` channels at the same resolution.

    The output of the cell before last is at twice the resolution when the last cell was a
    reduction cell: it goes through a factorized reduction. An input whose channel count differs
    from `filters` goes through relu-conv1x1-BN.
    """

    def __init__(self, filters: int, *, reduce_prev_prev: bool, search: bool, **kw):
        super().__init__(**kw)
        self.filters, self.reduce_prev_prev, self.search = filters, reduce_prev_prev, search
        self.prev_prev_reduce = (
            FactorizedReduce(filters, search=search, name="reduce") if reduce_prev_prev else None
        )
        self.prev_prev_proj = None
        self.prev_proj = None

    def build(self, input_shape):
        prev_prev_shape, prev_shape = input_shape
        if not self.reduce_prev_prev and int(prev_prev_shape[-1]) != self.filters:
            self.prev_prev_proj = ReluConvBN(self.filters, 1, search=self.search, name="proj_0")
        if int(prev_shape[-1]) != self.filters:
            self.prev_proj = ReluConvBN(self.filters, 1, search=self.search, name="proj_1")

    def call(self, inputs, training=None):
        prev_prev, prev = inputs
        if self.prev_prev_reduce is not None:
            prev_prev = self.prev_prev_reduce(prev_prev, training=training)
        elif self.prev_prev_proj is not None:
            prev_prev = self.prev_prev_proj(prev_prev, training=training)
        if self.prev_proj is not None:
            prev = self.prev_proj(prev, training=training)
        return prev_prev, prev


class SharedMicroCell(keras.layers.Layer):
    """The supernet cell: every candidate op of every node, routed by the arc tensor.

    Weights: for each separable conv kernel size, eight stacked variables (`SEP_WEIGHTS`) with
    one row per slot (node, side, input node); in a reduction cell, four more for the
    stride-2 identity (a factorized reduction) with one row per (node, side). Batch-norm
    scales and offsets are stored flat (rank 1), so `training.l2_penalty`, which decays rank
    >= 2 kernels only, leaves them alone as it does a single layer's. In a reduction cell an
    op applied to one of the two cell inputs runs with stride 2 and an op applied to a computed
    node with stride 1: the switch index is `op + 5 * (input >= 2)`.
    """

    def __init__(
        self,
        num_nodes: int,
        filters: int,
        *,
        reduction: bool,
        reduce_prev_prev: bool,
        **kw,
    ):
        super().__init__(**kw)
        self.num_nodes, self.filters, self.reduction = num_nodes, filters, reduction
        self.inputs_layer = CellInputs(
            filters, reduce_prev_prev=reduce_prev_prev, search=True, name="inputs"
        )
        self.output_proj = ReluConvBN(filters, 1, search=True, name="output")
        # slot_offsets[p][side]: the first slot of node p + 2's side; + input index = its slot.
        self.slot_offsets, start = [], 0
        for p in range(num_nodes):
            self.slot_offsets.append([start, start + p + 2])
            start += 2 * (p + 2)
        self.num_slots = start

    def build(self, input_shape):
        del input_shape  # Every shape follows from `filters` (the inputs layer calibrates).
        self.sep_stacks = {
            op: self._stacks(f"{op}_", supernet_ops.sep_weight_shapes(k, self.filters))
            for op, k in _SEP_KERNELS.items()
        }
        self.reduce_stacks = None
        if self.reduction:
            self.reduce_stacks = self._stacks(
                "reduce_", supernet_ops.reduce_weight_shapes(self.filters), 2 * self.num_nodes
            )

    def _stacks(self, prefix, shapes, rows=None):
        rows = rows or self.num_slots
        stacks = []
        for name, shape in shapes.items():
            if len(shape) > 1:
                init = supernet_ops.stacked_he_normal(rows)
                stacks.append(
                    self.add_weight(name=prefix + name, shape=(rows, *shape), initializer=init)
                )
            else:
                init = "ones" if name.startswith("gamma") else "zeros"
                stacks.append(
                    self.add_weight(name=prefix + name, shape=(rows * shape[0],), initializer=init)
                )
        return stacks

    def slot(self, node: int, side: int, input_index: int) -> int:
        """Row of the separable-conv stacks used by `node` (>= 2), `side`, `input_index`."""
        return self.slot_offsets[node - 2][side] + input_index

    def call(self, inputs, cell_tokens, training=None):
        """Runs the cell.

        Args:
          inputs: (prev_prev, prev) tensors.
          cell_tokens: int32 [4 * num_nodes], this cell's part of the arc.
          training: Keras training flag (the supernet always normalises by batch statistics).
        """
        prev_prev, prev = self.inputs_layer(inputs, training=training)
        tokens = tf.reshape(cell_tokens, [self.num_nodes, 2, 2])  # node, side, (input, op)
        input_ids, op_ids = tokens[:, :, 0], tokens[:, :, 1]
        rows = tf.reshape(input_ids + tf.constant(self.slot_offsets, tf.int32), [-1])
        # picked[op][weight][2 * p + side]: the slot weights of node p + 2's side.
        picked = {
            op: [
                tf.unstack(supernet_ops.select_rows(self._as_rows(stack, self.num_slots), rows))
                for stack in stacks
            ]
            for op, stacks in self.sep_stacks.items()
        }
        reduce_rows = None
        if self.reduction:  # one row per (node, side): no selection needed
            reduce_rows = [
                tf.unstack(self._as_rows(stack, 2 * self.num_nodes)) for stack in self.reduce_stacks
            ]
        nodes = [prev_prev, prev]
        for p in range(self.num_nodes):
            node = 0.0
            for side in range(2):
                j = 2 * p + side
                node += route(
                    nodes,
                    input_ids[p, side],
                    op_ids[p, side],
                    {op: [w[j] for w in weights] for op, weights in picked.items()},
                    [w[j] for w in reduce_rows] if reduce_rows else None,
                    self.reduction,
                )
            nodes.append(node)
        outputs = nodes[2:]
        mask = tf.cast(loose_end_mask(cell_tokens, self.num_nodes), outputs[-1].dtype)
        masked = [outputs[p] * mask[p] for p in range(self.num_nodes)]
        return self.output_proj(tf.concat(masked, axis=-1), training=training)

    def _as_rows(self, stack, num_rows: int):
        """A stack as [num_rows, ...] (flat norm stacks are viewed as [num_rows, filters])."""
        if len(stack.shape) == 1:
            return tf.reshape(stack, [num_rows, -1])
        return stack


class FixedMicroCell(keras.layers.Layer):
    """The cell of one arc, built from plain layers (no routing), for retraining and export."""

    def __init__(
        self,
        cell: MicroCell,
        filters: int,
        *,
        reduction: bool,
        reduce_prev_prev: bool,
        drop_path_keep_prob: float,
        depth_fraction: float,
        progress,
        **kw,
    ):
        super().__init__(**kw)
        self.cell, self.filters, self.reduction = cell, filters, reduction
        self.inputs_layer = CellInputs(
            filters, reduce_prev_prev=reduce_prev_prev, search=False, name="inputs"
        )
        self.ops = []
        self.drop_paths = []
        for node_index, node in enumerate(cell.nodes, start=2):
            for side, (source, op) in enumerate(
                ((node.input_a, node.op_a), (node.input_b, node.op_b))
            ):
                strides = 2 if reduction and source < 2 else 1
                self.ops.append(
                    make_micro_op(
                        op,
                        filters,
                        strides,
                        search=False,
                        name=f"node{node_index}_{'ab'[side]}_{op}",
                    )
                )
                keeps_identity = op == "identity" and strides == 1
                self.drop_paths.append(
                    None
                    if keeps_identity or drop_path_keep_prob >= 1.0
                    else DropPath(drop_path_keep_prob, depth_fraction, progress)
                )
        self.loose_ends = cell.loose_ends()

    def call(self, inputs, training=None):
        nodes = list(self.inputs_layer(inputs, training=training))
        for position, node in enumerate(self.cell.nodes):
            total = 0.0
            for side, source in enumerate((node.input_a, node.input_b)):
                out = self.ops[2 * position + side](nodes[source], training=training)
                drop = self.drop_paths[2 * position + side]
                if drop is not None:
                    out = drop(out, training=training)
                total += out
            nodes.append(total)
        return tf.concat([nodes[i] for i in self.loose_ends], axis=-1)

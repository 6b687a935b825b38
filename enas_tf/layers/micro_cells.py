"""Micro-space cells: the shared (routed) cell of the supernet and the fixed cell of one arc.

A cell has two inputs (the outputs of the two previous cells, calibrated to `filters` channels
at the cell's input resolution) and `num_nodes` computed nodes; node k adds `op_a(h[input_a])`
and `op_b(h[input_b])`. The cell output concatenates the loose ends (nodes no later node uses).

Shared cell routing (DESIGN.md rules 1-4): the arc arrives as an int32 tensor; the input of each
op is picked by `select_node` and the op by `tf.switch_case` over per-(node, side, op) layers
that were all built before the first step; separable convs pick their per-input weights by the
same index. Loose ends are concatenated in a fixed-shape form:
every computed node, multiplied by a 0/1 mask, then the 1x1 projection back to `filters`
channels. This equals the original code's gather of the loose ends followed by a 1x1 conv
with the matching rows of the weight, but its shape does not depend on the arc.
"""

from __future__ import annotations

import functools

import keras
import tensorflow as tf

from enas_tf.layers.norm import DropPath
from enas_tf.layers.ops import FactorizedReduce, InputIndexedSepConv, ReluConvBN, make_micro_op
from enas_tf.spaces.micro import OPS, MicroCell


def select_node(nodes, index):
    """Returns `nodes[index]` for an int32 tensor index, without stacking (no copies)."""
    if len(nodes) == 1:
        return nodes[0]
    return tf.switch_case(index, [functools.partial(tf.identity, node) for node in nodes])


def loose_end_mask(cell_tokens, num_nodes: int):
    """float32 [num_nodes]: 1 for computed nodes that no later node of the cell uses."""
    inputs = tf.reshape(cell_tokens, [num_nodes, 4])[:, 0::2]
    node_ids = tf.range(2, num_nodes + 2, dtype=inputs.dtype)
    used = tf.reduce_any(tf.equal(inputs[:, :, None], node_ids[None, None, :]), axis=[0, 1])
    return 1.0 - tf.cast(used, tf.float32)


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

    Weights are per (node, side, op), and the separable convs' weights also per input node
    (`InputIndexedSepConv`, as in the original code). In a reduction cell an op applied to one
    of the two cell inputs runs with stride 2 and an op applied to a computed node with
    stride 1, so those are separate layers and the switch index is `op + 5 * (input >= 2)`.
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
        # branches[p][side] is the flat list of candidate layers of node p + 2, one side.
        self.branches = []
        for p in range(num_nodes):
            sides = []
            for side in "ab":
                layers = [
                    make_micro_op(
                        op,
                        filters,
                        2 if reduction else 1,
                        search=True,
                        name=f"node{p + 2}_{side}_{op}",
                        num_inputs=2 if reduction else p + 2,
                    )
                    for op in OPS
                ]
                if reduction and p > 0:
                    layers += [
                        make_micro_op(
                            op,
                            filters,
                            1,
                            search=True,
                            name=f"node{p + 2}_{side}_{op}_inner",
                            num_inputs=p,
                        )
                        for op in OPS
                    ]
                sides.append(layers)
            self.branches.append(sides)
        self.output_proj = ReluConvBN(filters, 1, search=True, name="output")
        self.materializing = False  # see MicroSupernet.materialize

    def _route(self, nodes, branches, index, op, training):
        num_ops = len(OPS)

        def branch_calls(layers, x, input_index):
            return [
                functools.partial(layer, x, input_index, training=training)
                if isinstance(layer, InputIndexedSepConv)
                else functools.partial(layer, x, training=training)
                for layer in layers
            ]

        if not self.reduction:
            calls = branch_calls(branches, select_node(nodes, index), index)
            switch_index = op
        else:
            cell_input_index = tf.minimum(index, 1)
            calls = branch_calls(
                branches[:num_ops], select_node(nodes[:2], cell_input_index), cell_input_index
            )
            if len(nodes) > 2:
                inner_index = tf.maximum(index - 2, 0)
                calls += branch_calls(
                    branches[num_ops:], select_node(nodes[2:], inner_index), inner_index
                )
            switch_index = op + num_ops * tf.cast(index >= 2, op.dtype)
        if self.materializing:
            outputs = [call() for call in calls]
            return outputs[0]
        return tf.switch_case(switch_index, calls)

    def call(self, inputs, cell_tokens, training=None):
        """Runs the cell.

        Args:
          inputs: (prev_prev, prev) tensors.
          cell_tokens: int32 [4 * num_nodes], this cell's part of the arc.
          training: Keras training flag.
        """
        nodes = list(self.inputs_layer(inputs, training=training))
        tokens = tf.reshape(cell_tokens, [self.num_nodes, 4])
        for p in range(self.num_nodes):
            node = 0.0
            for side in range(2):
                index, op = tokens[p, 2 * side], tokens[p, 2 * side + 1]
                node += self._route(nodes, self.branches[p][side], index, op, training)
            nodes.append(node)
        mask = tf.cast(loose_end_mask(cell_tokens, self.num_nodes), nodes[-1].dtype)
        masked = [nodes[2 + p] * mask[p] for p in range(self.num_nodes)]
        return self.output_proj(tf.concat(masked, axis=-1), training=training)


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

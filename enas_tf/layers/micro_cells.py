"""Micro-space cells: the shared (routed) cell of the supernet and the fixed cell of one arc.

A cell has two inputs (the outputs of the two previous cells, calibrated to `filters` channels
at the cell's input resolution) and `num_nodes` computed nodes; node k adds `op_a(h[input_a])`
and `op_b(h[input_b])`. The cell output concatenates the loose ends (nodes no later node uses).

Shared cell routing (docs/DESIGN.md rules 1-4): the arc arrives as an int32 tensor. The separable
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

import keras
import tensorflow as tf

from enas_tf.layers import micro_routing, supernet_ops
from enas_tf.layers.eager_build import BuiltByFirstCall
from enas_tf.layers.norm import DropPath
from enas_tf.layers.ops import FactorizedReduce, ReluConvBN, make_micro_op
from enas_tf.spaces.config_checks import SEP_WEIGHT_SHARING
from enas_tf.spaces.micro import MicroCell
from enas_tf.spaces.micro import layout as token_layout


def loose_end_mask(cell_tokens, num_nodes: int):
    """float32 [num_nodes]: 1 for computed nodes that no later node of the cell uses."""
    node_tokens = tf.reshape(cell_tokens, [num_nodes, *token_layout.NODE_SHAPE])
    inputs = node_tokens[:, :, token_layout.INPUT_FIELD]
    nodes = token_layout.computed_nodes(num_nodes)
    node_ids = tf.range(nodes.start, nodes.stop, dtype=inputs.dtype)
    used = tf.reduce_any(tf.equal(inputs[:, :, None], node_ids[None, None, :]), axis=[0, 1])
    return 1.0 - tf.cast(used, tf.float32)


# How many separable-conv weight sets a shared cell keeps (`search.model.sep_weights`):
# per_input: one per (node, side, input node), the paper's per-edge W and the original code's
# w[prev_cell]; per_node: one per (node, side); per_cell: one per cell. Fewer sets means each
# is trained by more of the sampled children. Measured side by side on the quickstart (BUILD_NOTES,
# "Session 9"): per_cell made the shared weights learn much faster under uniform arcs (0.59 vs
# 0.42 valid accuracy after 780 steps) and, trained 3x longer, rank cells like retraining does
# (tau 0.40 vs 0.00), because the separable convs are then trained about as often as the
# projections every arc uses; an earlier measurement that saw no gain did not reproduce. Its
# own bias (session 10): a cell repeating one separable conv reuses one trained weight set
# everywhere, and sharing rates such cells above what they retrain to.


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
        sep_weights: str = "per_input",
        **kw,
    ):
        super().__init__(**kw)
        if sep_weights not in SEP_WEIGHT_SHARING:
            raise ValueError(f"sep_weights={sep_weights!r}: must be one of {SEP_WEIGHT_SHARING}")
        self.num_nodes, self.filters, self.reduction = num_nodes, filters, reduction
        self.sep_weights = sep_weights
        self.inputs_layer = CellInputs(
            filters, reduce_prev_prev=reduce_prev_prev, search=True, name="inputs"
        )
        self.output_proj = ReluConvBN(filters, 1, search=True, name="output")
        # slot_offsets[p][side]: the first slot of node p + 2's side; + input index = its slot.
        # per_node: one slot per (node, side), whatever the input; per_cell: one slot in all.
        self.slot_offsets, start = [], 0
        for p in range(num_nodes):
            if sep_weights == "per_input":
                self.slot_offsets.append([start, start + p + 2])
                start += 2 * (p + 2)
            elif sep_weights == "per_node":
                self.slot_offsets.append([start, start + 1])
                start += 2
            else:
                self.slot_offsets.append([0, 0])
                start = 1
        self.num_slots = start

    def build(self, input_shape):
        del input_shape  # Every shape follows from `filters` (the inputs layer calibrates).
        self.sep_stacks = {
            op: self._stacks(f"{op}_", supernet_ops.sep_weight_shapes(k, self.filters))
            for op, k in micro_routing.SEP_KERNELS.items()
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
        per_input = input_index if self.sep_weights == "per_input" else 0
        return self.slot_offsets[node - 2][side] + per_input

    def call(self, inputs, cell_tokens, training=None):
        """Runs the cell.

        Args:
          inputs: (prev_prev, prev) tensors.
          cell_tokens: int32 [cell_length(num_nodes)], this cell's part of the arc.
          training: Keras training flag (the supernet always normalises by batch statistics).
        """
        prev_prev, prev = self.inputs_layer(inputs, training=training)
        tokens = tf.reshape(cell_tokens, [self.num_nodes, *token_layout.NODE_SHAPE])
        input_ids = tokens[:, :, token_layout.INPUT_FIELD]  # [node, side]
        op_ids = tokens[:, :, token_layout.OP_FIELD]
        offsets = tf.constant(self.slot_offsets, tf.int32)
        if self.sep_weights == "per_input":
            offsets += input_ids
        rows = tf.reshape(offsets, [-1])
        selector = supernet_ops.row_selector(rows, self.num_slots)
        # picked[op][weight][2 * p + side]: the slot weights of node p + 2's side.
        picked = {
            op: [
                tf.unstack(supernet_ops.select_rows(self._as_rows(stack, self.num_slots), selector))
                for stack in stacks
            ]
            for op, stacks in self.sep_stacks.items()
        }
        if self.reduction:  # one row per (node, side): no selection needed
            picked["reduce"] = [
                tf.unstack(self._as_rows(stack, 2 * self.num_nodes)) for stack in self.reduce_stacks
            ]
        outputs = micro_routing.cell_dag(
            prev_prev,
            prev,
            input_ids,
            op_ids,
            picked,
            reduction=self.reduction,
        )
        mask = tf.cast(loose_end_mask(cell_tokens, self.num_nodes), outputs[-1].dtype)
        if tf.executing_eagerly() or not self.output_proj.built:  # the variable-making call
            masked = [outputs[p] * mask[p] for p in range(self.num_nodes)]
            return self.output_proj(tf.concat(masked, axis=-1), training=training)
        return self._routed_output(outputs, mask, training)

    def _routed_output(self, nodes, mask, training):
        """`output_proj` of the masked concatenation, as a sum of per-node 1x1 convolutions.

        Each node's block of the kernel is applied under a `tf.cond` on its loose-end bit
        (`supernet_ops.projection_if`), so the nodes other nodes consume cost nothing here:
        the masked concatenation convolved all `num_nodes` blocks and its gradient sliced
        every node back out (issue #27). Same variables, same value up to float rounding.
        The last node, always a loose end, goes through the cond too: projecting it outside
        measured +400 MB of peak memory at batch 160 (BUILD_NOTES.md; not understood).
        """
        blocks = tf.split(self.output_proj.conv.kernel, self.num_nodes, axis=2)
        total = supernet_ops.projection_if(nodes[0], mask[0], blocks[0])
        for p in range(1, self.num_nodes):
            total += supernet_ops.projection_if(nodes[p], mask[p], blocks[p])
        return self.output_proj.norm(total, training=training)

    def _as_rows(self, stack, num_rows: int):
        """A stack as [num_rows, ...] (flat norm stacks are viewed as [num_rows, filters])."""
        if len(stack.shape) == 1:
            return tf.reshape(stack, [num_rows, -1])
        return stack


class FixedMicroCell(BuiltByFirstCall):
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

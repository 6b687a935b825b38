"""The micro space's token layout: where each decision sits in the arc's int32 tokens.

The one place that says how a `MicroArc` is laid out as tokens. The arc codec
(`MicroArc.to_tokens` / `from_tokens`), the controller's `decision_program`, the supernet
(`enas_tf.models.micro`, `enas_tf.layers.micro_cells`) and the policy pictures all read it here:

    tokens = normal cell, then reduction cell              (len(CELLS) x cell_tokens)
    cell   = node 2, node 3, ..., node num_nodes + 1       (TOKENS_PER_NODE each)
    node   = input_a, op_a, input_b, op_b                  (FIELDS; NODE_SHAPE = operand x field)

so a cell's tokens reshape to `[num_nodes, *NODE_SHAPE]` with the input index at
`INPUT_FIELD` and the op id at `OP_FIELD` of the last axis.
"""

from __future__ import annotations

from typing import Any, Sequence

from enas_tf.errors import ArcError
from enas_tf.spaces import decisions, encoding

OPS: tuple[str, ...] = ("sep_conv_3x3", "sep_conv_5x5", "avg_pool_3x3", "max_pool_3x3", "identity")
"""Candidate ops; the position of a name is the original code's op id."""

NUM_OPS = len(OPS)
NUM_CELL_INPUTS = 2
"""Nodes 0 and 1 of every cell are its inputs; computed nodes start at index 2."""

CELLS: tuple[str, ...] = ("normal", "reduction")
"""Cell names in encoding order (the reduction cell is sampled after, conditioned on, normal)."""

FIELDS: tuple[str, ...] = ("input_a", "op_a", "input_b", "op_b")
"""Field order of one node in the integer encodings."""

OP_BIAS_INIT: tuple[float, ...] = (10.0, 10.0, 0.0, 0.0, 0.0)
"""Initial controller logit bias per op: the original code favours the two separable convolutions
at first so early children are not dominated by parameter-free ops."""

OPERANDS: tuple[str, ...] = ("a", "b")
"""A computed node's two operands, in token order."""

NODE_SHAPE: tuple[int, int] = (len(OPERANDS), 2)
"""One node's tokens as (operand, field); field `INPUT_FIELD` is the input, `OP_FIELD` the op."""
INPUT_FIELD, OP_FIELD = 0, 1
TOKENS_PER_NODE = NODE_SHAPE[0] * NODE_SHAPE[1]

OP_LEGEND = ", ".join(f"{i} {name}" for i, name in enumerate(OPS))


def check_num_nodes(num_nodes: Any) -> int:
    """`num_nodes` as an int, or `ArcError` unless it is an integer >= 1."""
    if not encoding.is_int(num_nodes) or num_nodes < 1:
        raise ArcError(
            f"num_nodes={encoding.show(num_nodes)}: must be an integer >= 1 (B - 2 in the paper)"
        )
    return int(num_nodes)


def cell_length(num_nodes: int) -> int:
    """Tokens of one cell."""
    return TOKENS_PER_NODE * num_nodes


def num_tokens(num_nodes: int) -> int:
    """Tokens of an arc (both cells)."""
    return len(CELLS) * cell_length(num_nodes)


def computed_nodes(num_nodes: int) -> range:
    """Absolute indices of a cell's computed nodes (the cell inputs are 0 and 1)."""
    return range(NUM_CELL_INPUTS, num_nodes + NUM_CELL_INPUTS)


def cell_tokens(tokens: Any, cell: int, num_nodes: int) -> Any:
    """Cell `cell`'s (0 normal, 1 reduction) part of `tokens`; lists, arrays and tensors."""
    length = cell_length(num_nodes)
    return tokens[cell * length : (cell + 1) * length]


def split_tokens(tokens: Any, num_nodes: int) -> tuple[Any, Any]:
    """`(normal_tokens, reduction_tokens)` by slicing, so lists, arrays and tensors all work.

    The supernet routes each cell on its own half of the arc tensor.
    """
    num_nodes = check_num_nodes(num_nodes)
    try:
        length = len(tokens)
    except TypeError:  # a symbolic tensor: trust the static shape checks of the caller
        length = None
    expected = num_tokens(num_nodes)
    if length is not None and length != expected:
        raise ArcError(f"expected {expected} tokens for num_nodes={num_nodes}, got {length}")
    normal, reduction = (cell_tokens(tokens, c, num_nodes) for c in range(len(CELLS)))
    return normal, reduction


def choice_panels(num_nodes: int, op_names: Sequence[str] = OPS) -> tuple:
    """The policy pictures of the micro space: per cell, an inputs panel and an ops panel.

    Rows are the operands "node k a", "node k b"; input columns are the nodes (c_{k-2},
    c_{k-1}, 2, 3, ...), op columns the op names. Each decision is one token, so a decision's
    index is its token position.
    """
    nodes = computed_nodes(check_num_nodes(num_nodes))
    labels = tuple(f"node {k} {operand}" for k in nodes for operand in OPERANDS)
    inputs = ("c_{k-2}", "c_{k-1}", *(str(k) for k in nodes[:-1]))
    panels = []
    for c, cell in enumerate(CELLS):
        start = c * cell_length(num_nodes)
        operands = range(start, start + cell_length(num_nodes), NODE_SHAPE[1])
        panels.append(
            decisions.ChoicePanel(
                f"{cell}_inputs",
                tuple(p + INPUT_FIELD for p in operands),
                labels,
                inputs,
                row_title="operand",
                col_title="input node",
            )
        )
        panels.append(
            decisions.ChoicePanel(
                f"{cell}_ops",
                tuple(p + OP_FIELD for p in operands),
                labels,
                tuple(op_names),
                row_title="operand",
                col_title="op",
            )
        )
    return tuple(panels)

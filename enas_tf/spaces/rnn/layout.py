"""The rnn space's token layout: where each decision of a cell sits in the arc's int32 tokens.

The one place that says how an `RnnArc` is laid out as tokens. The arc codec
(`RnnArc.to_tokens` / `from_tokens`, and enas_lm's integers, which are the same tokens without
the first), the controller's `decision_program`, the random sampler, the shared cell
(`enas_tf.layers.rnn_cells`) and the policy pictures all read it here instead of re-deriving
index arithmetic:

    tokens = node 1, node 2, ..., node N                  (num_tokens(N) = 2N - 1)
    node 1 = activation                                   (it reads the cell input, no choice)
    node l = prev token, activation            (l > 1)    (FIELDS)

so node l's activation id is at `activation_position(l) = 2l - 2` and, for l > 1, its prev token
at `prev_position(l) = 2l - 3`. The prev token is 0-based over the `num_prev_choices(l) = l - 1`
earlier nodes (`prev_to_token` / `prev_from_token`): token j means node j + 1, which is also the
position of that node in the list of node values the cell builds, and of its anchor among the
controller's anchors. Activation ids are positions in `ACTIVATIONS`.

Every decision of the rnn program emits exactly one token, so a decision's index among the
program's deciding steps equals its token position; `choice_panels` relies on that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

from enas_tf.errors import ArcError
from enas_tf.spaces import decisions, encoding

ACTIVATIONS: tuple[str, ...] = ("tanh", "relu", "sigmoid", "identity")
"""Candidate activations; the position of a name is its token id and enas_lm's function id."""

NUM_ACTIVATIONS = len(ACTIVATIONS)

ACTIVATION_LEGEND = ", ".join(f"{i} {name}" for i, name in enumerate(ACTIVATIONS))
"""`0 tanh, 1 relu, ...`: the id of every activation, for error messages."""

CELL_INPUT = 0
"""The `prev` of node 1: the cell input `(x_t, h_{t-1})`, not a node."""

FIRST_NODE = 1
"""Nodes are numbered from 1, as in the paper; node 1 reads the cell input."""

FIELDS: tuple[str, ...] = ("prev", "activation")
"""Fields of one node, in the order of the integer encodings (node 1 has only the second)."""


def check_num_nodes(num_nodes: Any) -> int:
    """`num_nodes` as an int, or `ArcError` unless it is an integer >= 1 (N)."""
    if not encoding.is_int(num_nodes) or num_nodes < 1:
        raise ArcError(f"num_nodes={encoding.show(num_nodes)}: must be an integer >= 1 (N)")
    return int(num_nodes)


def num_tokens(num_nodes: int) -> int:
    """Tokens of an arc of `num_nodes` nodes: `2N - 1` (one activation each, N - 1 indices)."""
    return len(FIELDS) * check_num_nodes(num_nodes) - 1


def num_nodes_for_length(length: int) -> Optional[int]:
    """The N whose arcs have `length` tokens, or None if no N has (an even length)."""
    if length < 1 or length % 2 == 0:
        return None
    return (length + 1) // 2


def length_hint(length: int) -> str:
    """The valid token counts around `length`, for messages about a length that fits no N."""
    around = (length + 1) // 2
    options = [(n, num_tokens(n)) for n in (around, around + 1) if n >= 1]
    return ", ".join(f"{count} for {n} node{'s' * (n > 1)}" for n, count in options)


def node_numbers(num_nodes: int) -> range:
    """The nodes of an arc, `1..N`, in token order."""
    return range(FIRST_NODE, check_num_nodes(num_nodes) + FIRST_NODE)


def nodes_after_first(num_nodes: int) -> range:
    """Nodes `2..N`: the ones that choose a previous node (and enas_lm's `layers[1:]`)."""
    return node_numbers(num_nodes)[1:]


def node_fields(node: int) -> tuple[str, ...]:
    """The fields node `node` has tokens for, in token order: node 1 has no prev choice."""
    return FIELDS[1:] if node == FIRST_NODE else FIELDS


def activation_position(node: int) -> int:
    """Token position of node `node`'s (1-based) activation id: `2 * node - 2`."""
    if node < FIRST_NODE:
        raise ValueError(f"node={node}: nodes are numbered from {FIRST_NODE}")
    return len(FIELDS) * (node - FIRST_NODE)


def prev_position(node: int) -> int:
    """Token position of node `node`'s prev token (`prev - 1`): `2 * node - 3`, for node > 1."""
    if node <= FIRST_NODE:
        raise ValueError(f"node={node}: only nodes after node 1 have a prev token")
    return activation_position(node) - 1


def token_position(node: int, field: str) -> int:
    """Token position of `field` ("prev" or "activation", see `FIELDS`) of node `node`."""
    if field == "activation":
        return activation_position(node)
    if field == "prev":
        return prev_position(node)
    raise ValueError(f"field={field!r}: must be one of {', '.join(FIELDS)}")


def activation_positions(num_nodes: int) -> tuple[int, ...]:
    """Token positions of the activation ids of nodes 1..N, in node order."""
    return tuple(activation_position(node) for node in node_numbers(num_nodes))


def prev_positions(num_nodes: int) -> tuple[int, ...]:
    """Token positions of the prev tokens of nodes 2..N, in node order."""
    return tuple(prev_position(node) for node in nodes_after_first(num_nodes))


def num_prev_choices(node: int) -> int:
    """How many nodes node `node` (> 1) can read: nodes 1..node-1, the prev token's range."""
    return node - FIRST_NODE


def prev_to_token(prev: int) -> int:
    """The prev token of a node that reads node `prev`: its 0-based index among nodes 1..l-1."""
    return prev - FIRST_NODE


def prev_from_token(token: int) -> int:
    """The node (1-based) a prev token `token` means (inverse of `prev_to_token`)."""
    return token + FIRST_NODE


def choice_panels(
    num_nodes: int, activations: Sequence[str] = ACTIVATIONS
) -> tuple[decisions.ChoicePanel, ...]:
    """The policy pictures of the rnn space: a prev panel (if N >= 2), then an activation panel.

    "rnn_prev" has one row per node 2..N, one column per earlier node 1..N-1 (node l fills its
    first l - 1); "rnn_activation" has one row per node 1..N, one column per activation. Each
    decision is one token, so a decision's index is its token position.

    Args:
      num_nodes: N.
      activations: the column labels of the activation panel (`ACTIVATIONS` by default).
    """
    nodes = node_numbers(num_nodes)
    labels = tuple(f"node {node}" for node in nodes)
    panels = []
    if len(nodes) >= 2:
        panels.append(
            decisions.ChoicePanel(
                "rnn_prev",
                prev_positions(num_nodes),
                labels[1:],
                tuple(str(node) for node in nodes[:-1]),
                row_title="node",
                col_title="previous node",
            )
        )
    panels.append(
        decisions.ChoicePanel(
            "rnn_activation",
            activation_positions(num_nodes),
            labels,
            tuple(activations),
            row_title="node",
            col_title="activation",
        )
    )
    return tuple(panels)

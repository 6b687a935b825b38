"""The rnn space's nodes: `RnnNode`, its field checks, and the parsers of node lists.

Every constructor of an arc (tokens, enas_lm integers and strings, JSON) checks fields through
the same functions, so all encodings report a problem the same way: which token or entry, which
node, which field, what is allowed. The parsers return nodes, not arcs: `RnnArc`
(`enas_tf.spaces.rnn.arc`) wraps them and checks the whole cell.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional

from enas_tf.errors import ArcError
from enas_tf.spaces import encoding
from enas_tf.spaces.rnn.layout import (
    ACTIVATION_LEGEND,
    ACTIVATIONS,
    CELL_INPUT,
    FIELDS,
    FIRST_NODE,
    NUM_ACTIVATIONS,
    node_fields,
    num_prev_choices,
    prev_from_token,
    token_position,
)


def prev_problem(value: Any, node: int) -> Optional[str]:
    """Why `value` cannot be the `prev` of node `node` (1-based), or None if it can."""
    if node == FIRST_NODE:
        if encoding.is_int(value) and value == CELL_INPUT:
            return None
        return "must be 0 (node 1 reads the cell input x_t, h_{t-1})"
    if encoding.is_int(value) and FIRST_NODE <= value < node:
        return None
    kind = "" if encoding.is_int(value) else "an integer "
    return f"must be {kind}in [1, {node - 1}] (an earlier node)"


def prev_token_problem(value: Any, node: int) -> Optional[str]:
    """Why `value` cannot be node `node`'s 0-based prev token (prev - 1), or None if it can."""
    if encoding.is_int(value) and 0 <= value < num_prev_choices(node):
        return None
    kind = "" if encoding.is_int(value) else "an integer "
    reads = "node 1" if node == 2 else f"one of nodes 1..{node - 1}"
    return f"must be {kind}in [0, {node - 2}] (index j means node j + 1; node {node} reads {reads})"


def activation_id_problem(value: Any) -> Optional[str]:
    """Why `value` cannot be an activation id of the integer encodings, or None if it can."""
    if encoding.is_int(value) and 0 <= value < NUM_ACTIVATIONS:
        return None
    return f"must be an activation id in [0, {NUM_ACTIVATIONS - 1}] ({ACTIVATION_LEGEND})"


def activation_name_problem(value: Any) -> Optional[str]:
    """Why `value` cannot be the activation name of an `RnnNode`, or None if it can."""
    if isinstance(value, str) and value in ACTIVATIONS:
        return None
    return f"must be one of {', '.join(ACTIVATIONS)}"


@dataclasses.dataclass(frozen=True)
class RnnNode:
    """One node of the cell: `h = highway(activation(h[prev] W))`.

    A node alone does not know its position, so it only checks what it can (a non-negative
    integer `prev`, a known activation); `RnnArc` checks that `prev` comes before the node.

    Attributes:
      prev: the node it reads, 1-based; 0 (`CELL_INPUT`) for node 1, which reads `x_t, h_{t-1}`.
      activation: name (from `ACTIVATIONS`) of the node's activation.
    """

    prev: int
    activation: str

    def __post_init__(self):
        if not encoding.is_int(self.prev) or self.prev < 0:
            raise ArcError(
                f"prev={encoding.show(self.prev)}: must be an integer node number >= 0 "
                "(0 = the cell input)"
            )
        object.__setattr__(self, "prev", int(self.prev))  # numpy ints -> int: hashable, JSON
        problem = activation_name_problem(self.activation)
        if problem:
            raise ArcError(f"activation={encoding.show(self.activation)}: {problem}")


def nodes_from_tokens(
    tokens: Sequence[Any], nodes: Sequence[int], locate: Callable[[int], str]
) -> list[RnnNode]:
    """Checks the tokens of `nodes` with located messages, then builds those nodes.

    The caller has checked the length; each value is checked before it is used, so a message
    names the first bad token, e.g. "token 5 (node 4, prev) = 3: must be in [0, 2] (...)".

    Args:
      tokens: an arc's tokens in the layout of `enas_tf.spaces.rnn.layout` (all `2N - 1`).
      nodes: which nodes (1-based, in order) to read; enas_lm's integers skip node 1.
      locate: `locate(position)` names token `position` in the caller's encoding (e.g.
        "token 5", or "enas_lm integer 4" for the same token read from enas_lm's integers).
    """
    built = []
    for node in nodes:
        values = {}
        for field in node_fields(node):
            position = token_position(node, field)
            value = tokens[position]
            if field == "prev":
                problem = prev_token_problem(value, node)
            else:
                problem = activation_id_problem(value)
            if problem:
                raise ArcError(
                    f"{locate(position)} (node {node}, {field}) = {encoding.show(value)}: {problem}"
                )
            values[field] = int(value)
        prev = prev_from_token(values["prev"]) if "prev" in values else CELL_INPUT
        built.append(RnnNode(prev, ACTIVATIONS[values["activation"]]))
    return built


def nodes_from_named(entries: Any) -> tuple[RnnNode, ...]:
    """Checks JSON node objects `{"node": l, "prev": j, "activation": name}`, builds the nodes.

    The `node` key is optional (the position is enough) but must match the position if given,
    so a hand edit that reorders or drops a node is caught rather than renumbered.
    """
    if not isinstance(entries, (list, tuple)) or not entries:
        raise ArcError(f"nodes: expected a non-empty list of nodes, got {entries!r}")
    built = []
    for index, entry in enumerate(entries):
        number = index + FIRST_NODE
        prefix = f"node {number}"
        if not isinstance(entry, Mapping):
            raise ArcError(f"{prefix}: expected an object with {', '.join(FIELDS)}, got {entry!r}")
        unknown = sorted(set(entry) - {"node", *FIELDS})
        if unknown:
            raise ArcError(f"{prefix}: unknown field(s) {unknown}; expected {', '.join(FIELDS)}")
        if "node" in entry and entry["node"] != number:
            raise ArcError(
                f"nodes entry {index} says node={entry['node']!r} but entry {index} is node "
                f"{number}: list the nodes in order starting at {FIRST_NODE}"
            )
        for field in FIELDS:
            if field not in entry:
                raise ArcError(f"{prefix}: missing field {field!r}")
        problem = prev_problem(entry["prev"], number)
        if problem:
            raise ArcError(f"{prefix}, prev={encoding.show(entry['prev'])}: {problem}")
        problem = activation_name_problem(entry["activation"])
        if problem:
            raise ArcError(f"{prefix}, activation={encoding.show(entry['activation'])}: {problem}")
        built.append(RnnNode(entry["prev"], entry["activation"]))
    return tuple(built)

"""The micro space's cells: `MicroNode`, `MicroCell`, their field checks and parsers.

Every constructor of a cell (tokens, strings, JSON) checks fields through the same functions, so
all encodings report a problem the same way: which token or entry, which node, which field,
what is allowed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from enas_tf.errors import ArcError
from enas_tf.spaces import encoding
from enas_tf.spaces.micro.layout import (
    FIELDS,
    NUM_CELL_INPUTS,
    NUM_OPS,
    OP_LEGEND,
    OPS,
    TOKENS_PER_NODE,
)


def _input_problem(value: Any, node: int) -> Optional[str]:
    """Why `value` cannot be an input of absolute node `node`, or None if it can."""
    if encoding.is_int(value) and 0 <= value < node:
        return None
    kind = "" if encoding.is_int(value) else "an integer "
    return f"must be {kind}in [0, {node - 1}] (0 and 1 are the cell inputs)"


def _op_id_problem(value: Any) -> Optional[str]:
    """Why `value` cannot be an op id of the integer encodings, or None if it can."""
    if encoding.is_int(value) and 0 <= value < NUM_OPS:
        return None
    return f"must be an op id in [0, {NUM_OPS - 1}] ({OP_LEGEND})"


def _op_name_problem(value: Any) -> Optional[str]:
    """Why `value` cannot be an op name of a `MicroNode`, or None if it can."""
    if isinstance(value, str) and value in OPS:
        return None
    return f"must be one of {', '.join(OPS)}"


def _node_prefix(cell: Optional[str], node: int) -> str:
    return f"{cell} cell, node {node}" if cell else f"node {node}"


def _check_int_node(values: Sequence[Any], node: int, locate) -> None:
    """Checks one node's `input_a op_a input_b op_b` integers; `locate(field_pos)` names a field."""
    for pos, value in enumerate(values):
        problem = _input_problem(value, node) if pos % 2 == 0 else _op_id_problem(value)
        if problem:
            raise ArcError(f"{locate(pos)} = {encoding.show(value)}: {problem}")


@dataclasses.dataclass(frozen=True)
class MicroNode:
    """One computed node: `h = op_a(h[input_a]) + op_b(h[input_b])`.

    A node alone does not know its position, so it only checks what it can (non-negative integer
    inputs, known op names); `MicroCell` checks that the inputs come before the node.

    Attributes:
      input_a: absolute index of the first input (0, 1 = cell inputs, k >= 2 = computed node k).
      op_a: name (from `OPS`) of the op applied to `input_a`.
      input_b: absolute index of the second input (may equal `input_a`).
      op_b: name of the op applied to `input_b`.
    """

    input_a: int
    op_a: str
    input_b: int
    op_b: str

    def __post_init__(self):
        for field in FIELDS:
            value = getattr(self, field)
            if field.startswith("input"):
                if not encoding.is_int(value) or value < 0:
                    raise ArcError(
                        f"{field}={encoding.show(value)}: must be an integer node index >= 0"
                    )
                object.__setattr__(self, field, int(value))  # numpy ints -> int: hashable, JSON
            else:
                problem = _op_name_problem(value)
                if problem:
                    raise ArcError(f"{field}={encoding.show(value)}: {problem}")

    def to_tokens(self) -> list[int]:
        """`[input_a, op_a id, input_b, op_b id]`, the original code's integers for this node."""
        return [self.input_a, OPS.index(self.op_a), self.input_b, OPS.index(self.op_b)]


@dataclasses.dataclass(frozen=True)
class MicroCell:
    """One cell: its computed nodes in order (`nodes[p]` is absolute node `p + 2`).

    Construction validates the cell (every input precedes its node). Errors name the node but
    not the cell's role, which only the arc knows; the `MicroArc` constructors add it.
    """

    nodes: tuple[MicroNode, ...]

    def __post_init__(self):
        if not isinstance(self.nodes, tuple):
            object.__setattr__(self, "nodes", tuple(self.nodes))  # a list would not be hashable
        self.validate()

    @property
    def num_nodes(self) -> int:
        """Number of computed nodes (B - 2 in the paper's notation)."""
        return len(self.nodes)

    def validate(self, cell: Optional[str] = None) -> None:
        """Raises `ArcError` unless every node is a `MicroNode` whose inputs precede it.

        Args:
          cell: "normal" or "reduction" to name the cell in messages, when known.
        """
        where = f"{cell} cell" if cell else "cell"
        if len(self.nodes) < 1:
            raise ArcError(f"{where} has no computed nodes: needs at least 1")
        for position, node in enumerate(self.nodes):
            index = position + NUM_CELL_INPUTS
            if not isinstance(node, MicroNode):
                raise ArcError(
                    f"{_node_prefix(cell, index)}: expected a MicroNode, got {type(node).__name__}"
                )
            for field in ("input_a", "input_b"):
                value = getattr(node, field)
                problem = _input_problem(value, index)
                if problem:
                    raise ArcError(f"{_node_prefix(cell, index)}, {field}={value}: {problem}")

    def used_mask(self) -> tuple[bool, ...]:
        """For every node 0..num_nodes+1: whether some computed node of the cell reads it."""
        used = [False] * (self.num_nodes + NUM_CELL_INPUTS)
        for node in self.nodes:
            used[node.input_a] = used[node.input_b] = True
        return tuple(used)

    def loose_ends(self) -> tuple[int, ...]:
        """Absolute indices of computed nodes no later node reads; the cell concatenates them.

        Never empty: the last node cannot be read by a later one.
        """
        used = self.used_mask()
        return tuple(k for k in range(NUM_CELL_INPUTS, len(used)) if not used[k])

    def to_tokens(self) -> list[int]:
        """The cell's `4 * num_nodes` integers, `input_a op_a input_b op_b` per node."""
        return [token for node in self.nodes for token in node.to_tokens()]

    def to_string(self) -> str:
        """The original scripts' space-separated form of this cell."""
        return " ".join(str(t) for t in self.to_tokens())

    @classmethod
    def from_tokens(cls, tokens: Sequence[Any], cell: Optional[str] = None) -> MicroCell:
        """Builds a cell from its `4 * num_nodes` integers.

        Args:
          tokens: `input_a op_a input_b op_b` per node, op ids as in `OPS`.
          cell: "normal"/"reduction" to name the cell in error messages.

        Raises:
          ArcError: wrong length or an out-of-range value; the message names the token position,
            node and field.
        """
        tokens = encoding.as_token_list(tokens)
        if not tokens or len(tokens) % TOKENS_PER_NODE:
            raise ArcError(
                f"{cell or 'a'} cell needs {TOKENS_PER_NODE} integers per computed node "
                f"(input_a op_a input_b op_b), got {len(tokens)}"
            )
        return cell_from_checked_ints(tokens, cell, lambda i: f"token {i}")

    @classmethod
    def from_string(cls, text: str, cell: Optional[str] = None) -> MicroCell:
        """Builds a cell from the original scripts' space-separated string."""
        return cell_from_string(text, cell or "cell")


def cell_from_checked_ints(ints: Sequence[Any], cell: Optional[str], locate) -> MicroCell:
    """Checks a cell's integers with located messages, then builds the cell.

    Args:
      ints: `4 * num_nodes` integers.
      cell: the cell's name for messages.
      locate: `locate(i)` names integer `i` of this cell (e.g. its token position).
    """
    nodes = []
    for position in range(len(ints) // TOKENS_PER_NODE):
        index = position + NUM_CELL_INPUTS
        first = TOKENS_PER_NODE * position
        values = ints[first : first + TOKENS_PER_NODE]

        def where(pos, first=first, index=index):
            node = _node_prefix(cell, index)
            return f"{locate(first + pos)} ({node}, {FIELDS[pos]})"

        _check_int_node(values, index, where)
        a, op_a, b, op_b = (int(v) for v in values)
        nodes.append(MicroNode(a, OPS[op_a], b, OPS[op_b]))
    return MicroCell(tuple(nodes))


def cell_from_string(text: str, cell: str) -> MicroCell:
    ints = encoding.parse_ints(text, f"{cell} string")
    if not ints or len(ints) % TOKENS_PER_NODE:
        raise ArcError(
            f"{cell} string has {len(ints)} numbers: needs {TOKENS_PER_NODE} per computed node "
            "(input_a op_a input_b op_b)"
        )
    return cell_from_checked_ints(ints, cell, lambda i: f"{cell} string, number {i}")


def cell_from_named(nodes: Any, cell: str) -> MicroCell:
    """Builds a cell from JSON node objects `{"input_a": 0, "op_a": "identity", ...}`."""
    if not isinstance(nodes, (list, tuple)) or not nodes:
        raise ArcError(f"{cell}: expected a non-empty list of nodes, got {nodes!r}")
    built = []
    for position, entry in enumerate(nodes):
        index = position + NUM_CELL_INPUTS
        prefix = _node_prefix(cell, index)
        if not isinstance(entry, Mapping):
            raise ArcError(f"{prefix}: expected an object with {', '.join(FIELDS)}, got {entry!r}")
        unknown = sorted(set(entry) - {"node", *FIELDS})
        if unknown:
            raise ArcError(f"{prefix}: unknown field(s) {unknown}; expected {', '.join(FIELDS)}")
        if "node" in entry and entry["node"] != index:
            raise ArcError(
                f"{cell} cell, entry {position} says node={entry['node']!r} but entry {position} "
                f"is node {index}: list the nodes in order starting at {NUM_CELL_INPUTS}"
            )
        for field in FIELDS:
            if field not in entry:
                raise ArcError(f"{prefix}: missing field {field!r}")
            value = entry[field]
            problem = (
                _input_problem(value, index)
                if field.startswith("input")
                else _op_name_problem(value)
            )
            if problem:
                raise ArcError(f"{prefix}, {field}={encoding.show(value)}: {problem}")
        built.append(MicroNode(*(entry[f] for f in FIELDS)))
    return MicroCell(tuple(built))

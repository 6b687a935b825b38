"""The micro (convolutional cell) search space of ENAS (Pham et al. 2018, Section 2.4).

An architecture is two cells, a normal cell and a reduction cell, with the same number of
computed nodes. A cell is a small DAG: nodes 0 and 1 are the cell's inputs (the outputs of the
two previous cells; the paper numbers them 1 and 2) and every computed node `k >= 2` picks two
earlier nodes `input_a, input_b` in `[0, k - 1]` and one op for each, and adds the results:

    h_k = op_a(h[input_a]) + op_b(h[input_b])

The cell output concatenates the loose ends, the computed nodes no later node uses. The reduction
cell is the same kind of graph with its ops applied at stride 2 to the cell inputs.

Encodings, all lossless and validated (an invalid `MicroArc` cannot be constructed):

* Objects: `MicroArc(normal=MicroCell(nodes=(MicroNode(input_a, op_a, input_b, op_b), ...)), ...)`
  with op names from `OPS`; node indices are 0-based and absolute (0, 1 = cell inputs).
* Tokens (`to_tokens` / `from_tokens`): the original code's integers, per node
  `input_a op_a input_b op_b` with op ids = positions in `OPS`, normal cell then reduction cell
  (`8 * num_nodes` int32 values). This is exactly the token sequence `decision_program` makes the
  controller emit, and what the supernet routes on.
* Strings (`to_string` / `from_strings`): the original scripts' space-separated form, one string
  per cell, e.g. the published `enas_micro_final` in `PUBLISHED`.
* JSON (`to_json` / `from_json`): the readable, versioned form written to arc.json (see
  `enas_tf.spaces.arc_io`).

Size of the space. The paper says "(5 x (B-2)!)^4 ... 1.3 x 10^11 at B = 7". Counting by the
definition it gives in the same paragraph (at node i, 3 <= i <= B, any two of the i-1 previous
nodes and any two of 5 ops, all decisions independent) gives, per cell,

    prod_{k=2}^{B-1} (5 k)^2 = (5^(B-2) * (B-1)!)^2

distinct token sequences (ordered: operand a and operand b are separate decisions), and the
square of that for a (normal, reduction) pair: 2.56 x 10^25 at B = 7. The paper's formula
undercounts in two ways: the ops contribute 5^(2(B-2)) per cell, not 5^2, and the inputs
((B-1)!)^2, not ((B-2)!)^2. It is not a count of any reading of the space: even identifying a
node's two operands as an unordered pair (their sum commutes) leaves 4.39 x 10^22 at B = 7, and
already at B = 3 (one node) the formula gives 625 arcs where there are 10^4 (3025 unordered). The
published 1.3 x 10^11 is what the formula evaluates to, (5 * 5!)^4 = 600^4 = 1.296 x 10^11; it is
not the size of the space. `search_space_size` counts by the definition (tested against
brute-force enumeration), `paper_search_space_size` evaluates the paper's formula. Neither is the
number of distinct functions: besides the operand swap, nodes that do not depend on each other
can be renumbered without changing the cell.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Optional

import numpy as np

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

_OP_LEGEND = ", ".join(f"{i} {name}" for i, name in enumerate(OPS))


# ---------------------------------------------------------------------------------------------
# Field checks shared by every constructor, so all encodings report problems the same way.


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
    return f"must be an op id in [0, {NUM_OPS - 1}] ({_OP_LEGEND})"


def _op_name_problem(value: Any) -> Optional[str]:
    """Why `value` cannot be an op name of a `MicroNode`, or None if it can."""
    if isinstance(value, str) and value in OPS:
        return None
    return f"must be one of {', '.join(OPS)}"


def _check_num_nodes(num_nodes: Any) -> int:
    if not encoding.is_int(num_nodes) or num_nodes < 1:
        raise ArcError(
            f"num_nodes={encoding.show(num_nodes)}: must be an integer >= 1 (B - 2 in the paper)"
        )
    return int(num_nodes)


def _node_prefix(cell: Optional[str], node: int) -> str:
    return f"{cell} cell, node {node}" if cell else f"node {node}"


def _check_int_node(values: Sequence[Any], node: int, locate) -> None:
    """Checks one node's `input_a op_a input_b op_b` integers; `locate(field_pos)` names a field."""
    for pos, value in enumerate(values):
        problem = _input_problem(value, node) if pos % 2 == 0 else _op_id_problem(value)
        if problem:
            raise ArcError(f"{locate(pos)} = {encoding.show(value)}: {problem}")


# ---------------------------------------------------------------------------------------------
# The architecture objects.


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
        if not tokens or len(tokens) % 4:
            raise ArcError(
                f"{cell or 'a'} cell needs 4 integers per computed node (input_a op_a input_b "
                f"op_b), got {len(tokens)}"
            )
        return _cell_from_checked_ints(tokens, cell, lambda i: f"token {i}")

    @classmethod
    def from_string(cls, text: str, cell: Optional[str] = None) -> MicroCell:
        """Builds a cell from the original scripts' space-separated string."""
        return _cell_from_string(text, cell or "cell")


@dataclasses.dataclass(frozen=True)
class MicroArc:
    """A micro-space architecture: a normal cell and a reduction cell of equal size.

    Construction validates the arc, so every `MicroArc` in the program is in the space.

    Attributes:
      normal: the cell used at stride 1.
      reduction: the cell whose ops on the cell inputs use stride 2.
    """

    VERSION: ClassVar[int] = 1
    """Version of the JSON form; bump it when `to_json` changes incompatibly."""
    space: ClassVar[str] = "micro"

    normal: MicroCell
    reduction: MicroCell

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raises `ArcError` unless both cells are valid and have the same number of nodes.

        The supernet and the decision program have one `num_nodes` for both cells, so an arc
        with cells of different sizes could not be trained or scored.
        """
        for name, cell in self.cells():
            if not isinstance(cell, MicroCell):
                raise ArcError(f"{name} cell: expected a MicroCell, got {type(cell).__name__}")
            cell.validate(name)
        if self.normal.num_nodes != self.reduction.num_nodes:
            raise ArcError(
                f"normal cell has {self.normal.num_nodes} computed nodes but reduction cell has "
                f"{self.reduction.num_nodes}: both cells must have the same number (num_nodes)"
            )

    def cells(self) -> tuple[tuple[str, MicroCell], tuple[str, MicroCell]]:
        """`(("normal", normal), ("reduction", reduction))`, in encoding order."""
        return (("normal", self.normal), ("reduction", self.reduction))

    @property
    def num_nodes(self) -> int:
        """Computed nodes per cell (B - 2 in the paper)."""
        return self.normal.num_nodes

    # Integer tokens --------------------------------------------------------------------------

    def to_tokens(self) -> list[int]:
        """The original code's `8 * num_nodes` integers: normal cell, then reduction cell."""
        return self.normal.to_tokens() + self.reduction.to_tokens()

    @classmethod
    def from_tokens(cls, tokens: Sequence[Any], num_nodes: Optional[int] = None) -> MicroArc:
        """Builds an arc from the integer encoding (e.g. the controller's sampled tokens).

        Args:
          tokens: `8 * num_nodes` integers (list, numpy array or eager tensor).
          num_nodes: computed nodes per cell; inferred from the length when None.

        Raises:
          ArcError: wrong length, a non-integer or an out-of-range token; the message names the
            token position, cell, node and field, e.g.
            "token 13 (normal cell, node 5, op_a) = 9: must be an op id in [0, 4] (...)".
        """
        tokens = encoding.as_token_list(tokens)
        if num_nodes is None:
            if not tokens or len(tokens) % 8:
                raise ArcError(
                    f"got {len(tokens)} tokens: a micro arc has 8 per computed node (4 per node "
                    "and cell, normal then reduction)"
                )
            num_nodes = len(tokens) // 8
        num_nodes = _check_num_nodes(num_nodes)
        half = 4 * num_nodes
        if len(tokens) != 2 * half:
            raise ArcError(
                f"expected {2 * half} tokens for num_nodes={num_nodes} (2 cells x {num_nodes} "
                f"nodes x input_a op_a input_b op_b), got {len(tokens)}"
            )
        cells = [
            _cell_from_checked_ints(
                tokens[c * half : (c + 1) * half],
                name,
                lambda i, c=c: f"token {c * half + i}",
            )
            for c, name in enumerate(CELLS)
        ]
        return cls(normal=cells[0], reduction=cells[1])

    # Strings ---------------------------------------------------------------------------------

    def to_string(self) -> tuple[str, str]:
        """`(normal, reduction)` in the original scripts' space-separated form."""
        return self.normal.to_string(), self.reduction.to_string()

    @classmethod
    def from_strings(cls, normal: str, reduction: str) -> MicroArc:
        """Builds an arc from the original scripts' two strings (`--child_fixed_arc` halves)."""
        return cls(
            normal=_cell_from_string(normal, "normal"),
            reduction=_cell_from_string(reduction, "reduction"),
        )

    def to_flat_string(self) -> str:
        """All `8 * num_nodes` integers in one space-separated string (normal then reduction)."""
        return " ".join(self.to_string())

    @classmethod
    def from_flat_string(cls, text: str, num_nodes: Optional[int] = None) -> MicroArc:
        """Inverse of `to_flat_string`; the halves are split by `num_nodes` (or the length)."""
        return cls.from_tokens(encoding.parse_ints(text, "arc string"), num_nodes)

    def __str__(self) -> str:
        normal, reduction = self.to_string()
        return f"normal [{normal}] reduction [{reduction}]"

    # JSON ------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The readable, versioned form stored in arc.json.

        Nodes are listed by name so a person can read the cell; the original strings are kept
        alongside so the arc can be pasted into the original code. `from_json` checks the two
        agree, which catches hand edits that changed only one of them.
        """
        out: dict[str, Any] = {"space": self.space, "version": self.VERSION}
        out["num_nodes"] = self.num_nodes
        for name, cell in self.cells():
            out[name] = [
                {"node": k, **{f: getattr(node, f) for f in FIELDS}}
                for k, node in enumerate(cell.nodes, start=NUM_CELL_INPUTS)
            ]
        normal, reduction = self.to_string()
        out["normal_string"], out["reduction_string"] = normal, reduction
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MicroArc:
        """Builds an arc from `to_json`'s form, checking space, version and every field.

        The named node lists are the source of truth; either may be omitted if the matching
        `*_string` is present (so a hand-written arc.json can hold just the two strings).
        Unknown top-level keys are ignored so later metadata does not break old readers.

        Raises:
          ArcError: wrong space or version, or any invalid/inconsistent field (named).
        """
        if not isinstance(data, Mapping):
            raise ArcError(f"a micro arc in JSON form is an object, got {type(data).__name__}")
        space = data.get("space")
        if space != cls.space:
            raise ArcError(f"space={space!r}: this reader handles space={cls.space!r} arcs")
        version = data.get("version")
        if version != cls.VERSION:
            raise ArcError(
                f"version={version!r}: this code reads micro arcs of version {cls.VERSION}"
            )
        cells = {}
        for name in CELLS:
            nodes, text = data.get(name), data.get(f"{name}_string")
            if nodes is None and text is None:
                raise ArcError(f"missing {name!r} (named nodes) and {name + '_string'!r}")
            cell = _cell_from_named(nodes, name) if nodes is not None else None
            if text is not None:
                if not isinstance(text, str):
                    raise ArcError(f"{name}_string: expected a string, got {type(text).__name__}")
                from_text = _cell_from_string(text, name)
                if cell is not None and from_text != cell:
                    raise ArcError(
                        f"{name}_string {text!r} disagrees with the named {name} nodes "
                        f"({cell.to_string()!r}): fix or delete one of them"
                    )
                cell = cell or from_text
            cells[name] = cell
        arc = cls(**cells)
        if "num_nodes" in data and data["num_nodes"] != arc.num_nodes:
            raise ArcError(
                f"num_nodes={data['num_nodes']!r} but the cells have {arc.num_nodes} computed nodes"
            )
        return arc


# ---------------------------------------------------------------------------------------------
# Parsing helpers.


def _cell_from_checked_ints(ints: Sequence[Any], cell: Optional[str], locate) -> MicroCell:
    """Checks a cell's integers with located messages, then builds the cell.

    Args:
      ints: `4 * num_nodes` integers.
      cell: the cell's name for messages.
      locate: `locate(i)` names integer `i` of this cell (e.g. its token position).
    """
    nodes = []
    for position in range(len(ints) // 4):
        index = position + NUM_CELL_INPUTS
        values = ints[4 * position : 4 * position + 4]

        def where(pos, position=position, index=index):
            node = _node_prefix(cell, index)
            return f"{locate(4 * position + pos)} ({node}, {FIELDS[pos]})"

        _check_int_node(values, index, where)
        a, op_a, b, op_b = (int(v) for v in values)
        nodes.append(MicroNode(a, OPS[op_a], b, OPS[op_b]))
    return MicroCell(tuple(nodes))


def _cell_from_string(text: str, cell: str) -> MicroCell:
    ints = encoding.parse_ints(text, f"{cell} string")
    if not ints or len(ints) % 4:
        raise ArcError(
            f"{cell} string has {len(ints)} numbers: needs 4 per computed node "
            "(input_a op_a input_b op_b)"
        )
    return _cell_from_checked_ints(ints, cell, lambda i: f"{cell} string, number {i}")


def _cell_from_named(nodes: Any, cell: str) -> MicroCell:
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


# ---------------------------------------------------------------------------------------------
# Space-level helpers.


def split_tokens(tokens: Any, num_nodes: int) -> tuple[Any, Any]:
    """`(normal_tokens, reduction_tokens)` by slicing, so lists, arrays and tensors all work.

    The supernet routes each cell on its own half of the arc tensor.
    """
    num_nodes = _check_num_nodes(num_nodes)
    half = 4 * num_nodes
    try:
        length = len(tokens)
    except TypeError:  # a symbolic tensor: trust the static shape checks of the caller
        length = None
    if length is not None and length != 2 * half:
        raise ArcError(f"expected {2 * half} tokens for num_nodes={num_nodes}, got {length}")
    return tokens[:half], tokens[half:]


def tokens_are_valid(tokens: Any, num_nodes: int) -> bool:
    """Whether `tokens` encode an arc of the space with `num_nodes` nodes per cell."""
    try:
        MicroArc.from_tokens(tokens, num_nodes)
    except ArcError:
        return False
    return True


def sample_random_arc(num_nodes: int, rng: np.random.Generator) -> MicroArc:
    """An arc drawn uniformly from the space (every token sequence equally likely).

    Each decision is drawn uniformly and independently, which is uniform over the product space
    that `search_space_size` counts. This is the random-search baseline of the paper (3.3).

    Args:
      num_nodes: computed nodes per cell (B - 2).
      rng: the source of randomness; pass `np.random.default_rng(seed)` for reproducibility.
    """
    num_nodes = _check_num_nodes(num_nodes)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    tokens = []
    for _ in CELLS:
        for k in range(NUM_CELL_INPUTS, num_nodes + NUM_CELL_INPUTS):
            for _ in range(2):
                tokens += [int(rng.integers(k)), int(rng.integers(NUM_OPS))]
    return MicroArc.from_tokens(tokens, num_nodes)


def search_space_size(num_nodes: int, *, unordered_operands: bool = False) -> int:
    """Number of arcs in the space, counted by its definition (see the module docstring).

    Per cell, node k (absolute index, 2 <= k <= num_nodes + 1) chooses an (input, op) pair for
    each of its two operands from `5 * k` pairs; the cells are independent, so the count is
    `(prod_k (5 k)^2)^2 = (5^num_nodes * (num_nodes + 1)!)^4`. This is the number of distinct
    token sequences, i.e. of arcs the controller can sample.

    Args:
      num_nodes: computed nodes per cell (B - 2 in the paper).
      unordered_operands: count a node's two operands as an unordered pair (`n (n + 1) / 2`
        instead of `n^2` per node, n = 5 k), since `op_a(h_a) + op_b(h_b)` commutes.

    Returns:
      The exact count (Python int). Compare `paper_search_space_size`, which is far smaller.
    """
    num_nodes = _check_num_nodes(num_nodes)
    per_cell = 1
    for k in range(NUM_CELL_INPUTS, num_nodes + NUM_CELL_INPUTS):
        pairs = NUM_OPS * k
        per_cell *= pairs * (pairs + 1) // 2 if unordered_operands else pairs * pairs
    return per_cell ** len(CELLS)


def paper_search_space_size(num_nodes: int) -> int:
    """The paper's formula `(5 x (B-2)!)^4` with B = num_nodes + 2 (1.296e11 at B = 7).

    Kept to document the published number; it is not the size of the space (module docstring).
    """
    num_nodes = _check_num_nodes(num_nodes)
    return (NUM_OPS * math.factorial(num_nodes)) ** 4


def decision_program(
    num_nodes: int, sep_conv_bias: float = OP_BIAS_INIT[0]
) -> tuple[decisions.DecisionStep, ...]:
    """The controller's program for the micro space; its tokens are `MicroArc.to_tokens()`.

    Per cell (normal, then reduction after a `ResetAnchors` so it attends only to its own nodes):
    two anchor steps stand for the cell inputs, then each computed node k makes its four
    decisions (index among the k nodes before it, op, index, op) and pushes its own anchor, so
    node k's `IndexChoice(k)` sees exactly the anchors of nodes 0..k-1. Both cells share one op
    table ("micro_op"), as in the paper, its logit bias initialised to `sep_conv_bias` for the
    two separable convolutions and 0 for the others (`OP_BIAS_INIT`, the original code's
    10.0, by default; 0 gives no op table bias at all).
    """
    num_nodes = _check_num_nodes(num_nodes)
    bias = (float(sep_conv_bias),) * 2 + (0.0,) * (NUM_OPS - 2) if sep_conv_bias else None
    steps: list[decisions.DecisionStep] = []
    for c, _ in enumerate(CELLS):
        if c > 0:
            steps.append(decisions.ResetAnchors())
        steps += [decisions.AnchorStep() for _ in range(NUM_CELL_INPUTS)]
        for k in range(NUM_CELL_INPUTS, num_nodes + NUM_CELL_INPUTS):
            for _ in range(2):
                steps.append(decisions.IndexChoice(k))
                steps.append(decisions.OpChoice(NUM_OPS, group="micro_op", bias_init=bias))
            steps.append(decisions.AnchorStep())
    return tuple(steps)


PUBLISHED: dict[str, MicroArc] = {
    # scripts/cifar10_micro_final.sh of the original code; the paper's 3.54% (2.89% + CutOut).
    "enas_micro_final": MicroArc.from_strings(
        normal="0 2 0 0 0 4 0 1 0 4 1 1 1 0 0 1 0 2 1 1",
        reduction="1 0 1 0 0 3 0 2 1 1 3 1 1 0 0 4 0 3 1 1",
    ),
}
"""Published micro architectures by name (loadable with `arc_io.load_arc(name)`)."""

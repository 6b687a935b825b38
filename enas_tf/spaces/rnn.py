"""The recurrent-cell search space of ENAS (Pham et al. 2018, Section 2.1 and Appendix A).

An architecture is one recurrent cell: a chain of `N` nodes (N = 12 in the paper), numbered from
1 as in the paper. Node 1 reads the cell input, the pair `(x_t, h_{t-1})`, and picks one of
`ACTIVATIONS`; every node `l > 1` picks one earlier node `prev` in `[1, l - 1]` and an
activation. With the highway connections of Section 3.1 / Appendix A:

    c_1 = sigmoid(x_t W^(x,c) + h_{t-1} W^(c)_0)
    h_1 = c_1 * f_1(x_t W^(x,h) + h_{t-1} W^(h)_0) + (1 - c_1) * h_{t-1}
    c_l = sigmoid(h_prev W^(c)_{l,prev})
    h_l = c_l * f_l(h_prev W^(h)_{l,prev}) + (1 - c_l) * h_prev        (l > 1)

The cell output `h_t` averages some of the nodes. The paper averages the loose ends (nodes no
later node reads, `RnnArc.loose_ends()`); the enas_lm GPU code averages every node but node 1
(`RnnArc.output_nodes("all_but_first")`). That is a model choice, not part of the arc.

Encodings, all lossless and validated (an invalid `RnnArc` cannot be constructed):

* Objects: `RnnArc(nodes=(RnnNode(prev, activation), ...))`; `nodes[i]` is node `i + 1`, node 1
  has `prev=0` (the cell input), node `l > 1` has `prev` in `[1, l - 1]`.
* Tokens (`to_tokens` / `from_tokens`): what `decision_program` makes the controller emit,
  `2N - 1` int32 values: node 1 `[activation id]`, then per node `l > 1` `[prev - 1, activation
  id]` (the index token is 0-based over nodes `1..l-1`, the anchors the controller attends to).
  Activation ids are positions in `ACTIVATIONS`.
* enas_lm integers (`to_enas_lm` / `from_enas_lm`, and `to_string` / `from_string` for their
  space-separated form, the `--fixed_arc` flag of google-research `enas_lm/`): see below.
* JSON (`to_json` / `from_json`): the readable, versioned form written to arc.json (see
  `enas_tf.spaces.arc_io`).

The enas_lm integers. In enas_lm (`src/fixed_lib.py`, `_rnn_fn`, and the TPU and search
versions) the cell first computes a highway node from `(x_t, h_{t-1})` with a fixed tanh; that
node is its `layers[0]`, the "node 0". The integers are then `(prev_index, func)` pairs, one
per further node: pair `k` (0-based) computes `layers[k + 1]` from `layers[prev_index]`,
`0 <= prev_index <= k`, with function `func` (0 tanh, 1 ReLU, 2 sigmoid, 3 identity, the order
of `ACTIVATIONS`). So `2K` integers describe a cell of `N = K + 1` nodes in the paper's sense,
and the mapping is a shift by one:

    enas_lm layers[m]        = our node m + 1        (layers[0] = node 1, the input node)
    pair k = (p, f)          = node k + 2 with prev = p + 1 and activation ACTIVATIONS[f]
    node 1's activation      = tanh, always (enas_lm does not search it)

Only arcs whose node 1 is tanh, with at least 2 nodes, have an enas_lm form; `to_enas_lm` raises
`ArcError` for the others. For those arcs the two integer layouts agree exactly:
`to_tokens() == [0] + to_enas_lm()` (0 = tanh). enas_lm's output is, by default, the average of
`layers[1:]`, i.e. of nodes 2..N (`fixed_lib.py`, `child.py`); its TPU `fixed_lib.py` averages
the loose ends instead, including node 1 if it were one (`--child_average_loose_ends`, default
True; the README's TPU command, the published 56.1 perplexity, does not set it).

The authors' first code (github melodyguan/enas, `src/ptb/`) uses the token layout above,
with activation ids `0 tanh, 1 ReLU, 2 identity, 3 sigmoid` (2 and 3 swapped relative to
`ACTIVATIONS`) and the loose-end average; `PUBLISHED["enas_ptb_paper"]` comes from there.

Size of the space. The paper says "4^N x N! configurations ... N = 12, approximately 10^15".
Counting by the definition above (4 activations per node, node l chooses among l - 1 earlier
nodes, all decisions independent) gives

    4^N * prod_{l=2}^{N} (l - 1) = 4^N * (N - 1)!

distinct token sequences: 6.7 x 10^14 at N = 12. The paper's formula is N times larger
(8.0 x 10^15): N! would let node l choose among l inputs, not l - 1. `search_space_size`
counts by the definition (tested against brute-force enumeration), `paper_search_space_size`
evaluates the paper's formula. Neither is the number of distinct functions: nodes that do not
depend on each other can be renumbered without changing what the cell computes (up to which
weights they use).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Optional

import numpy as np

from enas_tf.errors import ArcError
from enas_tf.spaces import decisions, encoding

ACTIVATIONS: tuple[str, ...] = ("tanh", "relu", "sigmoid", "identity")
"""Candidate activations; the position of a name is its token id and enas_lm's function id."""

NUM_ACTIVATIONS = len(ACTIVATIONS)

CELL_INPUT = 0
"""The `prev` of node 1: the cell input `(x_t, h_{t-1})`, not a node."""

FIELDS: tuple[str, ...] = ("prev", "activation")
"""Fields of one node, in the order of the integer encodings."""

OUTPUT_MODES: tuple[str, ...] = ("loose_ends", "all_but_first")
"""Which nodes the cell output averages: the paper's loose ends, or enas_lm's nodes 2..N."""

_ACTIVATION_LEGEND = ", ".join(f"{i} {name}" for i, name in enumerate(ACTIVATIONS))


# ---------------------------------------------------------------------------------------------
# Field checks shared by every constructor, so all encodings report problems the same way.


def _prev_problem(value: Any, node: int) -> Optional[str]:
    """Why `value` cannot be the `prev` of node `node` (1-based), or None if it can."""
    if node == 1:
        if encoding.is_int(value) and value == CELL_INPUT:
            return None
        return "must be 0 (node 1 reads the cell input x_t, h_{t-1})"
    if encoding.is_int(value) and 1 <= value < node:
        return None
    kind = "" if encoding.is_int(value) else "an integer "
    return f"must be {kind}in [1, {node - 1}] (an earlier node)"


def _index_problem(value: Any, node: int) -> Optional[str]:
    """Why `value` cannot be node `node`'s 0-based index integer (prev - 1), or None if it can."""
    if encoding.is_int(value) and 0 <= value <= node - 2:
        return None
    kind = "" if encoding.is_int(value) else "an integer "
    reads = "node 1" if node == 2 else f"one of nodes 1..{node - 1}"
    return f"must be {kind}in [0, {node - 2}] (index j means node j + 1; node {node} reads {reads})"


def _activation_id_problem(value: Any) -> Optional[str]:
    """Why `value` cannot be an activation id of the integer encodings, or None if it can."""
    if encoding.is_int(value) and 0 <= value < NUM_ACTIVATIONS:
        return None
    return f"must be an activation id in [0, {NUM_ACTIVATIONS - 1}] ({_ACTIVATION_LEGEND})"


def _activation_name_problem(value: Any) -> Optional[str]:
    """Why `value` cannot be the activation name of an `RnnNode`, or None if it can."""
    if isinstance(value, str) and value in ACTIVATIONS:
        return None
    return f"must be one of {', '.join(ACTIVATIONS)}"


def _check_num_nodes(num_nodes: Any) -> int:
    if not encoding.is_int(num_nodes) or num_nodes < 1:
        raise ArcError(f"num_nodes={encoding.show(num_nodes)}: must be an integer >= 1 (N)")
    return int(num_nodes)


def _length_hint(length: int) -> str:
    """The valid token counts around `length`, for messages about an even count."""
    options = [(n, 2 * n - 1) for n in ((length + 1) // 2, (length + 1) // 2 + 1) if n >= 1]
    return ", ".join(f"{count} for {n} node{'s' * (n > 1)}" for n, count in options)


# ---------------------------------------------------------------------------------------------
# The architecture objects.


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
        problem = _activation_name_problem(self.activation)
        if problem:
            raise ArcError(f"activation={encoding.show(self.activation)}: {problem}")


@dataclasses.dataclass(frozen=True)
class RnnArc:
    """A recurrent cell of the rnn space: `N` nodes, each with a previous node and an activation.

    Construction validates the arc, so every `RnnArc` in the program is in the space.

    Attributes:
      nodes: the nodes in order; `nodes[i]` is node `i + 1`. Node 1 has `prev=0`, node `l > 1`
        has `prev` in `[1, l - 1]`.
    """

    VERSION: ClassVar[int] = 1
    """Version of the JSON form; bump it when `to_json` changes incompatibly."""
    space: ClassVar[str] = "rnn"

    nodes: tuple[RnnNode, ...]

    def __post_init__(self):
        if isinstance(self.nodes, (list, np.ndarray)):
            object.__setattr__(self, "nodes", tuple(self.nodes))  # a list would not be hashable
        self.validate()

    def validate(self) -> None:
        """Raises `ArcError` unless there is >= 1 node and every `prev` precedes its node."""
        if not isinstance(self.nodes, tuple):
            raise ArcError(f"nodes: expected a sequence of RnnNode, got {self.nodes!r}")
        if not self.nodes:
            raise ArcError("an rnn arc has no nodes: needs at least 1")
        for index, node in enumerate(self.nodes):
            number = index + 1
            if not isinstance(node, RnnNode):
                raise ArcError(f"node {number}: expected an RnnNode, got {type(node).__name__}")
            problem = _prev_problem(node.prev, number)
            if problem:
                raise ArcError(f"node {number}, prev={node.prev}: {problem}")

    @property
    def num_nodes(self) -> int:
        """Number of nodes N (12 in the paper)."""
        return len(self.nodes)

    def used_mask(self) -> tuple[bool, ...]:
        """For the cell input (index 0) and every node 1..N: whether some node reads it."""
        used = [False] * (self.num_nodes + 1)
        for node in self.nodes:
            used[node.prev] = True
        return tuple(used)

    def loose_ends(self) -> tuple[int, ...]:
        """Nodes (1-based) no later node reads; the paper's cell output averages them.

        Never empty: the last node cannot be read by a later one.
        """
        used = self.used_mask()
        return tuple(number for number in range(1, len(used)) if not used[number])

    def output_nodes(self, mode: str = "loose_ends") -> tuple[int, ...]:
        """The nodes (1-based) whose average is the cell output under `mode`.

        Args:
          mode: "loose_ends" (the paper, and enas_lm's TPU model by default) or "all_but_first"
            (enas_lm's search and GPU fixed model: `layers[1:]`, every node but node 1).

        Raises:
          ArcError: unknown mode, or "all_but_first" on a 1-node arc (nothing to average).
        """
        if mode == "loose_ends":
            return self.loose_ends()
        if mode == "all_but_first":
            if self.num_nodes < 2:
                raise ArcError(
                    "output 'all_but_first' of a 1-node arc averages no node: use 'loose_ends'"
                )
            return tuple(range(2, self.num_nodes + 1))
        raise ArcError(f"mode={mode!r}: must be one of {', '.join(OUTPUT_MODES)}")

    # Integer tokens --------------------------------------------------------------------------

    def to_tokens(self) -> list[int]:
        """The controller's `2N - 1` tokens: node 1 `[act]`, node l > 1 `[prev - 1, act]`."""
        tokens = [ACTIVATIONS.index(self.nodes[0].activation)]
        for node in self.nodes[1:]:
            tokens += [node.prev - 1, ACTIVATIONS.index(node.activation)]
        return tokens

    @classmethod
    def from_tokens(cls, tokens: Sequence[Any], num_nodes: Optional[int] = None) -> RnnArc:
        """Builds an arc from its token sequence (e.g. the controller's sampled tokens).

        Args:
          tokens: `2 * num_nodes - 1` integers (list, numpy array or eager tensor).
          num_nodes: N; inferred from the length when None.

        Raises:
          ArcError: wrong length, a non-integer or an out-of-range token; the message names the
            token position, node and field, e.g.
            "token 5 (node 4, prev) = 3: must be in [0, 2] (index j means node j + 1; ...)".
        """
        tokens = encoding.as_token_list(tokens)
        if num_nodes is None:
            if len(tokens) % 2 == 0:
                raise ArcError(
                    f"got {len(tokens)} tokens: an rnn arc of N nodes has 2N - 1 (node 1: "
                    f"activation; node l > 1: prev - 1, activation), which fits no N "
                    f"({_length_hint(len(tokens))})"
                )
            num_nodes = (len(tokens) + 1) // 2
        num_nodes = _check_num_nodes(num_nodes)
        if len(tokens) != num_tokens(num_nodes):
            layout = "node 1: activation" + (
                f"; nodes 2..{num_nodes}: prev - 1, activation" if num_nodes > 1 else ""
            )
            raise ArcError(
                f"expected {num_tokens(num_nodes)} tokens for num_nodes={num_nodes} ({layout}), "
                f"got {len(tokens)}"
            )
        problem = _activation_id_problem(tokens[0])
        if problem:
            raise ArcError(f"token 0 (node 1, activation) = {encoding.show(tokens[0])}: {problem}")
        first = RnnNode(CELL_INPUT, ACTIVATIONS[int(tokens[0])])
        rest = _nodes_from_pairs(tokens[1:], lambda i: f"token {i + 1}")
        return cls((first, *rest))

    # enas_lm integers --------------------------------------------------------------------------

    def to_enas_lm(self) -> list[int]:
        """enas_lm's `(prev_index, func)` pairs for nodes 2..N (`to_tokens()[1:]`).

        Raises:
          ArcError: node 1 is not tanh (enas_lm's input node always is), or the arc has a
            single node (enas_lm needs at least one pair).
        """
        _check_enas_lm_expressible(self)
        return self.to_tokens()[1:]

    @classmethod
    def from_enas_lm(cls, ints: Sequence[Any]) -> RnnArc:
        """Builds the arc of enas_lm's integers: node 1 tanh, then one node per pair.

        Args:
          ints: `2K` integers, K >= 1 (list, numpy array or eager tensor); the arc has K + 1
            nodes (see the module docstring for the mapping).

        Raises:
          ArcError: odd or zero length, a non-integer or an out-of-range value; the message names
            the integer's position, node and field.
        """
        ints = encoding.as_token_list(ints)
        _check_enas_lm_length(len(ints), "enas_lm integers", "got")
        return _arc_from_enas_lm_ints(ints, lambda i: f"enas_lm integer {i}")

    # Strings ---------------------------------------------------------------------------------

    def to_string(self) -> str:
        """enas_lm's integers, space separated (its `--fixed_arc` flag)."""
        return " ".join(str(value) for value in self.to_enas_lm())

    @classmethod
    def from_string(cls, text: str) -> RnnArc:
        """Builds an arc from enas_lm's space-separated integers (inverse of `to_string`)."""
        ints = encoding.parse_ints(text, "enas_lm string")
        _check_enas_lm_length(len(ints), "enas_lm string", "has")
        return _arc_from_enas_lm_ints(ints, lambda i: f"enas_lm string, number {i}")

    def __str__(self) -> str:
        parts = [f"{self.nodes[0].activation}(x,h)"]
        parts += [f"{node.activation}({node.prev})" for node in self.nodes[1:]]
        return " ".join(parts)

    # JSON ------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The readable, versioned form stored in arc.json.

        Nodes are listed by number with their `prev` and activation name so a person can read
        the cell; enas_lm's integers are kept alongside as `enas_lm_string` so the arc can be
        pasted into enas_lm. `from_json` checks the two agree, which catches hand edits that
        changed only one of them. Arcs without an enas_lm form (node 1 not tanh, or one node)
        have no `enas_lm_string` key.
        """
        out: dict[str, Any] = {
            "space": self.space,
            "version": self.VERSION,
            "num_nodes": self.num_nodes,
            "nodes": [
                {"node": index + 1, "prev": node.prev, "activation": node.activation}
                for index, node in enumerate(self.nodes)
            ],
        }
        if _enas_lm_problem(self) is None:
            out["enas_lm_string"] = self.to_string()
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RnnArc:
        """Builds an arc from `to_json`'s form, checking space, version and every field.

        The named `nodes` are the source of truth; either they or `enas_lm_string` may be
        omitted (so a hand-written arc.json can hold just enas_lm's integers). Unknown top-level
        keys are ignored so later metadata does not break old readers.

        Raises:
          ArcError: wrong space or version, or any invalid/inconsistent field (named).
        """
        arc = encoding.arc_from_json(
            cls,
            data,
            named_key="nodes",
            text_key="enas_lm_string",
            from_named=_arc_from_named,
            from_text=cls.from_string,
            difference=_first_difference,
        )
        if "num_nodes" in data and data["num_nodes"] != arc.num_nodes:
            raise ArcError(f"num_nodes={data['num_nodes']!r} but the arc has {arc.num_nodes} nodes")
        return arc


# ---------------------------------------------------------------------------------------------
# Parsing helpers.


def _nodes_from_pairs(ints: Sequence[Any], locate) -> list[RnnNode]:
    """Checks `(prev - 1, activation id)` pairs for nodes 2, 3, ... and builds the nodes.

    Args:
      ints: `2K` integers, pair k for node k + 2.
      locate: `locate(i)` names integer `i` of `ints` (e.g. its token position).
    """
    nodes = []
    for k in range(len(ints) // 2):
        number = k + 2
        index, act = ints[2 * k], ints[2 * k + 1]
        problem = _index_problem(index, number)
        if problem:
            raise ArcError(
                f"{locate(2 * k)} (node {number}, prev) = {encoding.show(index)}: {problem}"
            )
        problem = _activation_id_problem(act)
        if problem:
            raise ArcError(
                f"{locate(2 * k + 1)} (node {number}, activation) = {encoding.show(act)}: {problem}"
            )
        nodes.append(RnnNode(int(index) + 1, ACTIVATIONS[int(act)]))
    return nodes


def _check_enas_lm_length(length: int, what: str, verb: str) -> None:
    if length == 0 or length % 2:
        raise ArcError(
            f"{what} {verb} {length} numbers: enas_lm needs (prev_index, func) pairs, at least "
            "one, one per node after node 1"
        )


def _arc_from_enas_lm_ints(ints: Sequence[Any], locate) -> RnnArc:
    first = RnnNode(CELL_INPUT, "tanh")  # enas_lm's layers[0]: a fixed tanh highway node
    return RnnArc((first, *_nodes_from_pairs(ints, locate)))


def _enas_lm_problem(arc: RnnArc) -> Optional[str]:
    """Why `arc` has no enas_lm form, or None if it has one."""
    if arc.nodes[0].activation != "tanh":
        return (
            f"node 1, activation={arc.nodes[0].activation!r}: enas_lm's input node always uses "
            "tanh, so only arcs whose node 1 is tanh have an enas_lm form"
        )
    if arc.num_nodes < 2:
        return (
            "a 1-node arc has no enas_lm form (enas_lm needs at least one (prev_index, func) pair)"
        )
    return None


def _check_enas_lm_expressible(arc: RnnArc) -> None:
    problem = _enas_lm_problem(arc)
    if problem:
        raise ArcError(problem)


def _arc_from_named(entries: Any) -> RnnArc:
    """Builds an arc from JSON node objects `{"node": l, "prev": j, "activation": name}`."""
    if not isinstance(entries, (list, tuple)) or not entries:
        raise ArcError(f"nodes: expected a non-empty list of nodes, got {entries!r}")
    nodes = []
    for index, entry in enumerate(entries):
        number = index + 1
        prefix = f"node {number}"
        if not isinstance(entry, Mapping):
            raise ArcError(f"{prefix}: expected an object with {', '.join(FIELDS)}, got {entry!r}")
        unknown = sorted(set(entry) - {"node", *FIELDS})
        if unknown:
            raise ArcError(f"{prefix}: unknown field(s) {unknown}; expected {', '.join(FIELDS)}")
        if "node" in entry and entry["node"] != number:
            raise ArcError(
                f"nodes entry {index} says node={entry['node']!r} but entry {index} is node "
                f"{number}: list the nodes in order starting at 1"
            )
        for field in FIELDS:
            if field not in entry:
                raise ArcError(f"{prefix}: missing field {field!r}")
        problem = _prev_problem(entry["prev"], number)
        if problem:
            raise ArcError(f"{prefix}, prev={encoding.show(entry['prev'])}: {problem}")
        problem = _activation_name_problem(entry["activation"])
        if problem:
            raise ArcError(f"{prefix}, activation={encoding.show(entry['activation'])}: {problem}")
        nodes.append(RnnNode(entry["prev"], entry["activation"]))
    return RnnArc(tuple(nodes))


def _first_difference(a: RnnArc, b: RnnArc) -> str:
    """Names the first node where two arcs differ (for mismatch messages)."""
    if a.num_nodes != b.num_nodes:
        return f"enas_lm_string has {a.num_nodes} nodes, the named nodes {b.num_nodes}"
    for index, (node_a, node_b) in enumerate(zip(a.nodes, b.nodes, strict=True)):
        if node_a != node_b:
            return (
                f"node {index + 1}: enas_lm_string has prev={node_a.prev} "
                f"activation={node_a.activation!r}, the named nodes prev={node_b.prev} "
                f"activation={node_b.activation!r}"
            )
    return "no difference"  # unreachable when a != b


# ---------------------------------------------------------------------------------------------
# Space-level helpers.


def num_tokens(num_nodes: int) -> int:
    """Tokens of an arc of `num_nodes` nodes: `2N - 1` (one activation each, N - 1 indices)."""
    return 2 * _check_num_nodes(num_nodes) - 1


def tokens_are_valid(tokens: Any, num_nodes: int) -> bool:
    """Whether `tokens` encode an arc of `num_nodes` nodes."""
    try:
        RnnArc.from_tokens(tokens, num_nodes)
    except ArcError:
        return False
    return True


def search_space_size(num_nodes: int) -> int:
    """Number of arcs, counted by the space's definition: `4^N * (N - 1)!` (module docstring).

    Every node picks one of 4 activations and node l one of l - 1 earlier nodes, independently,
    so this is the number of distinct token sequences, i.e. of arcs the controller can sample
    (6.7 x 10^14 at N = 12). Compare `paper_search_space_size`.
    """
    num_nodes = _check_num_nodes(num_nodes)
    return NUM_ACTIVATIONS**num_nodes * math.factorial(num_nodes - 1)


def paper_search_space_size(num_nodes: int) -> int:
    """The paper's formula `4^N x N!` (8.0 x 10^15 at N = 12, "approximately 10^15").

    Kept to document the published number; it is N times the size of the space.
    """
    num_nodes = _check_num_nodes(num_nodes)
    return NUM_ACTIVATIONS**num_nodes * math.factorial(num_nodes)


def sample_random_arc(num_nodes: int, rng: np.random.Generator) -> RnnArc:
    """An arc drawn uniformly from the space (every token sequence equally likely).

    Each decision is drawn uniformly and independently, in token order, which is uniform over
    the product space that `search_space_size` counts: the random-search baseline of the paper
    (3.3).

    Args:
      num_nodes: N.
      rng: the source of randomness; pass `np.random.default_rng(seed)` for reproducibility.
    """
    num_nodes = _check_num_nodes(num_nodes)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    tokens = [int(rng.integers(NUM_ACTIVATIONS))]
    for number in range(2, num_nodes + 1):
        tokens += [int(rng.integers(number - 1)), int(rng.integers(NUM_ACTIVATIONS))]
    return RnnArc.from_tokens(tokens, num_nodes)


def decision_program(num_nodes: int) -> tuple[decisions.DecisionStep, ...]:
    """The controller's program for the rnn space; its tokens are `RnnArc.to_tokens()`.

    Node 1 chooses its activation; node l > 1 chooses among the anchors of nodes 1..l-1
    (`IndexChoice(l - 1)`, so its token is `prev - 1`), then its activation. Every node then
    pushes its own anchor. All activation choices share one table ("activation").
    """
    num_nodes = _check_num_nodes(num_nodes)
    steps: list[decisions.DecisionStep] = []
    for number in range(1, num_nodes + 1):
        if number > 1:
            steps.append(decisions.IndexChoice(number - 1))
        steps.append(decisions.OpChoice(NUM_ACTIVATIONS, group="activation"))
        steps.append(decisions.AnchorStep())
    return tuple(steps)


PUBLISHED: dict[str, RnnArc] = {
    # google-research enas_lm README, `--fixed_arc='0 2 1 0 2 1 2 2 4 0 5 0 3 2 6 2'`: 8 pairs,
    # so 9 nodes (node 1 = enas_lm's fixed tanh input node). 56.1 test ppl (TPU model, whose
    # default output is the loose-end average), 57.3 (GPU model, average of nodes 2..9).
    "enas_lm_cell": RnnArc.from_string("0 2 1 0 2 1 2 2 4 0 5 0 3 2 6 2"),
    # melodyguan/enas scripts/ptb_final.sh, `fixed_arc="0 0 0 1 1 2 1 2 0 2 0 5 1 1 0 6 1 8 1 8 1
    # 8 1"` with --child_rhn_depth=12: node 1's activation, then (prev - 1, activation) for
    # nodes 2..12, i.e. exactly our tokens. It only uses ids 0 (tanh) and 1 (ReLU), which mean
    # the same in that code and in ACTIVATIONS. The cell of the paper's Figure 6 (the repo's
    # img/enas_rnn_cell.png): 12 nodes, only tanh and ReLU, output = average of 6 loose ends.
    "enas_ptb_paper": RnnArc.from_tokens(
        [0, 0, 0, 1, 1, 2, 1, 2, 0, 2, 0, 5, 1, 1, 0, 6, 1, 8, 1, 8, 1, 8, 1]
    ),
}
"""Published rnn cells by name (loadable with `arc_io.load_arc(name)`)."""

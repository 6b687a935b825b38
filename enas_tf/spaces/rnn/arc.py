"""The rnn space's architecture, `RnnArc`: a chain of N nodes, and its encodings.

Tokens, enas_lm's integers and their string, and the versioned JSON of arc.json are methods of
the class (the package docstring explains the enas_lm mapping); the token order is
`enas_tf.spaces.rnn.layout`'s, and every field is checked by `enas_tf.spaces.rnn.nodes`.
`PUBLISHED` holds the cells of the paper and of enas_lm.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Callable, ClassVar, Optional

import numpy as np

from enas_tf.errors import ArcError
from enas_tf.spaces import encoding
from enas_tf.spaces.rnn import layout
from enas_tf.spaces.rnn.layout import ACTIVATIONS, CELL_INPUT, FIRST_NODE
from enas_tf.spaces.rnn.nodes import RnnNode, nodes_from_named, nodes_from_tokens, prev_problem

OUTPUT_MODES: tuple[str, ...] = ("loose_ends", "all_but_first")
"""Which nodes the cell output averages: the paper's loose ends, or enas_lm's nodes 2..N."""

ENAS_LM_FIRST_ACTIVATION = "tanh"
"""Node 1's activation in enas_lm, where it is a fixed highway node, not a decision."""

_ENAS_LM_START = layout.prev_position(FIRST_NODE + 1)
"""Token position of enas_lm's integer 0: its integers are our tokens from node 2 on."""


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
        for number, node in enumerate(self.nodes, start=FIRST_NODE):
            if not isinstance(node, RnnNode):
                raise ArcError(f"node {number}: expected an RnnNode, got {type(node).__name__}")
            problem = prev_problem(node.prev, number)
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
        return tuple(number for number in layout.node_numbers(self.num_nodes) if not used[number])

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
            return tuple(layout.nodes_after_first(self.num_nodes))
        raise ArcError(f"mode={mode!r}: must be one of {', '.join(OUTPUT_MODES)}")

    # Integer tokens --------------------------------------------------------------------------

    def to_tokens(self) -> list[int]:
        """The controller's `2N - 1` tokens: node 1 `[act]`, node l > 1 `[prev - 1, act]`."""
        tokens = [0] * layout.num_tokens(self.num_nodes)
        for number, node in enumerate(self.nodes, start=FIRST_NODE):
            if number > FIRST_NODE:
                tokens[layout.prev_position(number)] = layout.prev_to_token(node.prev)
            tokens[layout.activation_position(number)] = ACTIVATIONS.index(node.activation)
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
            num_nodes = layout.num_nodes_for_length(len(tokens))
            if num_nodes is None:
                raise ArcError(
                    f"got {len(tokens)} tokens: an rnn arc of N nodes has 2N - 1 (node 1: "
                    f"activation; node l > 1: prev - 1, activation), which fits no N "
                    f"({layout.length_hint(len(tokens))})"
                )
        num_nodes = layout.check_num_nodes(num_nodes)
        if len(tokens) != layout.num_tokens(num_nodes):
            fields = "node 1: activation" + (
                f"; nodes 2..{num_nodes}: prev - 1, activation" if num_nodes > 1 else ""
            )
            raise ArcError(
                f"expected {layout.num_tokens(num_nodes)} tokens for num_nodes={num_nodes} "
                f"({fields}), got {len(tokens)}"
            )
        nodes = nodes_from_tokens(tokens, layout.node_numbers(num_nodes), lambda i: f"token {i}")
        return cls(tuple(nodes))

    # enas_lm integers --------------------------------------------------------------------------

    def to_enas_lm(self) -> list[int]:
        """enas_lm's `(prev_index, func)` pairs for nodes 2..N: our tokens from node 2 on.

        Raises:
          ArcError: node 1 is not tanh (enas_lm's input node always is), or the arc has a
            single node (enas_lm needs at least one pair).
        """
        problem = _enas_lm_problem(self)
        if problem:
            raise ArcError(problem)
        return self.to_tokens()[_ENAS_LM_START:]

    @classmethod
    def from_enas_lm(cls, ints: Sequence[Any]) -> RnnArc:
        """Builds the arc of enas_lm's integers: node 1 tanh, then one node per pair.

        Args:
          ints: `2K` integers, K >= 1 (list, numpy array or eager tensor); the arc has K + 1
            nodes (see the package docstring for the mapping).

        Raises:
          ArcError: odd or zero length, a non-integer or an out-of-range value; the message names
            the integer's position, node and field.
        """
        ints = encoding.as_token_list(ints)
        return _arc_from_enas_lm(ints, "enas_lm integers", "got", lambda i: f"enas_lm integer {i}")

    # Strings ---------------------------------------------------------------------------------

    def to_string(self) -> str:
        """enas_lm's integers, space separated (its `--fixed_arc` flag)."""
        return " ".join(str(value) for value in self.to_enas_lm())

    @classmethod
    def from_string(cls, text: str) -> RnnArc:
        """Builds an arc from enas_lm's space-separated integers (inverse of `to_string`)."""
        ints = encoding.parse_ints(text, "enas_lm string")
        return _arc_from_enas_lm(
            ints, "enas_lm string", "has", lambda i: f"enas_lm string, number {i}"
        )

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
                {"node": number, "prev": node.prev, "activation": node.activation}
                for number, node in enumerate(self.nodes, start=FIRST_NODE)
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
            from_named=lambda entries: cls(nodes_from_named(entries)),
            from_text=cls.from_string,
            difference=_first_difference,
        )
        if "num_nodes" in data and data["num_nodes"] != arc.num_nodes:
            raise ArcError(f"num_nodes={data['num_nodes']!r} but the arc has {arc.num_nodes} nodes")
        return arc


# ---------------------------------------------------------------------------------------------
# enas_lm's integers: our tokens without node 1's activation, which enas_lm fixes to tanh.


def _arc_from_enas_lm(
    ints: list[Any], what: str, verb: str, locate: Callable[[int], str]
) -> RnnArc:
    """Builds the arc of enas_lm's integers: node 1 tanh, then one node per pair.

    Args:
      ints: enas_lm's integers, not yet checked.
      what, verb: how messages about the length name them ("enas_lm string has ...").
      locate: `locate(i)` names enas_lm integer `i` in messages, e.g. "enas_lm integer 4".

    Raises:
      ArcError: odd or zero length, or a bad value (named by `locate`, node and field).
    """
    num_nodes = layout.num_nodes_for_length(_ENAS_LM_START + len(ints))
    if not ints or num_nodes is None:
        raise ArcError(
            f"{what} {verb} {len(ints)} numbers: enas_lm needs (prev_index, func) pairs, at least "
            "one, one per node after node 1"
        )
    tokens = [ACTIVATIONS.index(ENAS_LM_FIRST_ACTIVATION), *ints]
    nodes = layout.nodes_after_first(num_nodes)
    rest = nodes_from_tokens(tokens, nodes, lambda i: locate(i - _ENAS_LM_START))
    # enas_lm's layers[0]: a fixed tanh highway node, node 1 here.
    return RnnArc((RnnNode(CELL_INPUT, ENAS_LM_FIRST_ACTIVATION), *rest))


def _enas_lm_problem(arc: RnnArc) -> Optional[str]:
    """Why `arc` has no enas_lm form, or None if it has one."""
    if arc.nodes[0].activation != ENAS_LM_FIRST_ACTIVATION:
        return (
            f"node 1, activation={arc.nodes[0].activation!r}: enas_lm's input node always uses "
            "tanh, so only arcs whose node 1 is tanh have an enas_lm form"
        )
    if arc.num_nodes < 2:
        return (
            "a 1-node arc has no enas_lm form (enas_lm needs at least one (prev_index, func) pair)"
        )
    return None


def _first_difference(a: RnnArc, b: RnnArc) -> str:
    """Names the first node where two arcs differ (for mismatch messages)."""
    if a.num_nodes != b.num_nodes:
        return f"enas_lm_string has {a.num_nodes} nodes, the named nodes {b.num_nodes}"
    for number, (node_a, node_b) in enumerate(zip(a.nodes, b.nodes, strict=True), FIRST_NODE):
        if node_a != node_b:
            return (
                f"node {number}: enas_lm_string has prev={node_a.prev} "
                f"activation={node_a.activation!r}, the named nodes prev={node_b.prev} "
                f"activation={node_b.activation!r}"
            )
    return "no difference"  # unreachable when a != b


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

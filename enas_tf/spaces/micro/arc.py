"""The micro space's architecture, `MicroArc`: a normal and a reduction cell of equal size.

Its encodings (tokens, the original scripts' strings, the versioned JSON of arc.json) are
methods of the class; the token order is `enas_tf.spaces.micro.layout`'s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Optional

from enas_tf.errors import ArcError
from enas_tf.spaces import encoding
from enas_tf.spaces.micro import layout
from enas_tf.spaces.micro.cells import (
    MicroCell,
    cell_from_checked_ints,
    cell_from_named,
    cell_from_string,
)
from enas_tf.spaces.micro.layout import CELLS, FIELDS, NUM_CELL_INPUTS


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
        per_node = len(CELLS) * layout.TOKENS_PER_NODE
        if num_nodes is None:
            if not tokens or len(tokens) % per_node:
                raise ArcError(
                    f"got {len(tokens)} tokens: a micro arc has {per_node} per computed node "
                    f"({layout.TOKENS_PER_NODE} per node and cell, normal then reduction)"
                )
            num_nodes = len(tokens) // per_node
        num_nodes = layout.check_num_nodes(num_nodes)
        if len(tokens) != layout.num_tokens(num_nodes):
            raise ArcError(
                f"expected {layout.num_tokens(num_nodes)} tokens for num_nodes={num_nodes} "
                f"(2 cells x {num_nodes} nodes x input_a op_a input_b op_b), got {len(tokens)}"
            )
        start = layout.cell_length(num_nodes)
        cells = [
            cell_from_checked_ints(
                layout.cell_tokens(tokens, c, num_nodes),
                name,
                lambda i, c=c: f"token {c * start + i}",
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
            normal=cell_from_string(normal, "normal"),
            reduction=cell_from_string(reduction, "reduction"),
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
        data = encoding.check_json_header(cls, data)
        cells = {
            name: encoding.part_from_json(
                data,
                named_key=name,
                text_key=f"{name}_string",
                from_named=lambda nodes, name=name: cell_from_named(nodes, name),
                from_text=lambda text, name=name: cell_from_string(text, name),
                difference=lambda text, named: (
                    f"{text.to_string()!r} vs the nodes' {named.to_string()!r}"
                ),
                what=f"{name} nodes",
            )
            for name in CELLS
        }
        arc = cls(**cells)
        if "num_nodes" in data and data["num_nodes"] != arc.num_nodes:
            raise ArcError(
                f"num_nodes={data['num_nodes']!r} but the cells have {arc.num_nodes} computed nodes"
            )
        return arc


PUBLISHED: dict[str, MicroArc] = {
    # scripts/cifar10_micro_final.sh of the original code; the paper's 3.54% (2.89% + CutOut).
    "enas_micro_final": MicroArc.from_strings(
        normal="0 2 0 0 0 4 0 1 0 4 1 1 1 0 0 1 0 2 1 1",
        reduction="1 0 1 0 0 3 0 2 1 1 3 1 1 0 0 4 0 3 1 1",
    ),
}
"""Published micro architectures by name (loadable with `arc_io.load_arc(name)`)."""

"""The macro space's architecture, `MacroArc`: a chain of `MacroLayer`s over the stem.

Its encodings (tokens, the original scripts' integers flat or as rows, the versioned JSON of
arc.json) are methods of the class; the token order is `enas_tf.spaces.macro.layout`'s. The
published architectures are in `PUBLISHED`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Optional

from enas_tf.errors import ArcError
from enas_tf.spaces import encoding
from enas_tf.spaces.macro import layout
from enas_tf.spaces.macro.layers import (
    MacroLayer,
    check_op_names,
    layer_from_checked_ints,
    layer_from_named,
    layer_name,
    plural,
    sources_text,
)
from enas_tf.spaces.macro.layout import OPS


@dataclasses.dataclass(frozen=True)
class MacroArc:
    """A macro-space architecture: `L` layers, each with an op and skip bits.

    Construction validates the arc, so every `MacroArc` in the program is in the space.

    Attributes:
      layers: the searched layers in order; `layers[i]` is layer `i + 1` (the stem is layer 0)
        and has exactly `i` skip bits.
    """

    VERSION: ClassVar[int] = 1
    """Version of the JSON form; bump it when `to_json` changes incompatibly."""
    space: ClassVar[str] = "macro"

    layers: tuple[MacroLayer, ...]

    def __post_init__(self):
        if isinstance(self.layers, Iterable) and not isinstance(self.layers, (tuple, str)):
            object.__setattr__(self, "layers", tuple(self.layers))  # a list is not hashable
        self.validate()

    def validate(self) -> None:
        """Raises `ArcError` unless there is >= 1 layer and `layers[i]` has exactly `i` bits.

        The bit count is what ties a layer to its position: with one bit too few or too many the
        token sequence would shift and every later layer would be misread.
        """
        if not isinstance(self.layers, tuple):
            raise ArcError(f"layers: expected a sequence of MacroLayer, got {self.layers!r}")
        if not self.layers:
            raise ArcError("a macro arc has no layers: needs at least 1")
        for number, layer in enumerate(self.layers, start=1):
            name = layer_name(number)
            if not isinstance(layer, MacroLayer):
                raise ArcError(f"{name}: expected a MacroLayer, got {type(layer).__name__}")
            needed = layout.num_skips(number)
            if len(layer.skips) != needed:
                raise ArcError(
                    f"{name}, skips: has {plural(len(layer.skips), 'bit')}, needs {needed} (one "
                    f"per skip source: {sources_text(number)})"
                )

    @property
    def num_layers(self) -> int:
        """Number of searched layers L (the stem not included)."""
        return len(self.layers)

    def ops_used(self) -> tuple[str, ...]:
        """The distinct op names of the arc, ordered by original op id."""
        used = {layer.op for layer in self.layers}
        return tuple(op for op in OPS if op in used)

    def check_ops(self, op_names: Sequence[str]) -> None:
        """Raises `ArcError` unless every layer's op is one of `op_names`.

        A search restricted to some ops (e.g. the authors' final script, ops 0-3) cannot score
        or route an arc that uses another op, so this is checked before anything is built.

        Args:
          op_names: the allowed op names (e.g. `parse_ops(config.search.model.ops)`).
        """
        names = check_op_names(op_names)
        for number, layer in enumerate(self.layers, start=1):
            if layer.op not in names:
                raise ArcError(
                    f"{layer_name(number)}, op={layer.op!r}: not among the allowed ops "
                    f"({', '.join(names)})"
                )

    # Integer tokens --------------------------------------------------------------------------

    def to_tokens(self, op_names: Sequence[str] = OPS) -> list[int]:
        """The controller's token sequence: per layer, the op token then the skip bits.

        Args:
          op_names: the ops in token order; an op token is its op's position here. The default
            gives the original code's op ids; pass the search's restriction (`parse_ops`) to
            get the tokens its controller and supernet use.

        Raises:
          ArcError: a layer's op is not in `op_names` (named by `check_ops`).
        """
        names = check_op_names(op_names)
        self.check_ops(names)
        tokens = [0] * layout.num_tokens(self.num_layers)
        for number, layer in enumerate(self.layers, start=1):
            tokens[layout.layer_span(number)] = [names.index(layer.op), *layer.skips]
        return tokens

    @classmethod
    def from_tokens(
        cls,
        tokens: Sequence[Any],
        num_layers: Optional[int] = None,
        op_names: Sequence[str] = OPS,
    ) -> MacroArc:
        """Builds an arc from its token sequence (e.g. the controller's sampled tokens).

        Args:
          tokens: `num_tokens(num_layers)` integers (list, numpy array or eager tensor).
          num_layers: L; inferred from the length when None.
          op_names: the ops in token order, as given to `to_tokens`.

        Raises:
          ArcError: wrong length, a non-integer or an out-of-range token; the message names the
            token position, layer and field, e.g.
            "token 7 (layer 4, skip from layer 0, the stem) = 2: must be 0 or 1".
        """
        names = check_op_names(op_names)
        tokens = encoding.as_token_list(tokens)
        if num_layers is None:
            num_layers = layout.layers_for_length(len(tokens))
            if num_layers is None:
                raise ArcError(
                    f"got {len(tokens)} tokens: a macro arc of L layers has L + L(L-1)/2 (one op "
                    f"token per layer, then layer k's k - 1 skip bits), which fits no L "
                    f"({layout.length_hint(len(tokens))})"
                )
        num_layers = layout.check_num_layers(num_layers)
        expected = layout.num_tokens(num_layers)
        if len(tokens) != expected:
            raise ArcError(
                f"expected {expected} tokens for num_layers={num_layers} "
                f"({num_layers} op tokens + {expected - num_layers} skip bits), "
                f"got {len(tokens)}"
            )
        return _arc_from_checked_ints(tokens, names, lambda i: f"token {i}")

    # Strings ---------------------------------------------------------------------------------

    def to_string(self) -> str:
        """All the original code's integers (original op ids), space separated, layer by layer."""
        return " ".join(self.to_rows())

    def to_rows(self) -> list[str]:
        """One string per layer, its op id then its skip bits: the published listing's rows.

        A row is the layer's tokens under the original op ids (`layout.layer_span`).
        """
        tokens = self.to_tokens()
        return [
            " ".join(str(t) for t in tokens[layout.layer_span(number)])
            for number in layout.layer_numbers(self.num_layers)
        ]

    @classmethod
    def from_string(cls, text: str) -> MacroArc:
        """Builds an arc from the original integers (inverse of `to_string` and of rows).

        Any whitespace separates the integers. If the text has one line per layer, each line
        is checked as that layer's row, so a bit moved from one row to the next (which would
        keep the total length and silently shift the layers) is reported instead of misread.

        Raises:
          ArcError: a non-integer, a length that fits no number of layers, a bad row or value;
            the message names the number's position (or row), layer and field.
        """
        ints = encoding.parse_ints(text, "arc string")
        lines = [line for line in text.splitlines() if line.strip()]
        num_layers = layout.layers_for_length(len(ints))
        if len(lines) > 1 and num_layers in (None, len(lines)):
            return cls.from_rows(lines)
        if num_layers is None:
            raise ArcError(
                f"arc string has {len(ints)} numbers: a macro arc of L layers has L + L(L-1)/2 "
                f"(layer k: its op id, then k - 1 skip bits), which fits no L "
                f"({layout.length_hint(len(ints))})"
            )
        return _arc_from_checked_ints(ints, OPS, lambda i: f"arc string, number {i}")

    @classmethod
    def from_rows(cls, rows: Sequence[str] | str) -> MacroArc:
        """Builds an arc from one string per layer (inverse of `to_rows`), checking each row.

        Args:
          rows: row k (counting from 1) is layer k's op id then its k - 1 skip bits; a single
            string is split into lines (blank lines are ignored).
        """
        if isinstance(rows, str):
            rows = [line for line in rows.splitlines() if line.strip()]
        if not isinstance(rows, Iterable):
            raise ArcError(f"rows: expected a sequence of strings, got {type(rows).__name__}")
        rows = list(rows)
        if not rows:
            raise ArcError("rows: a macro arc has no layers: needs at least 1 row")
        layers = []
        for number, row in enumerate(rows, start=1):
            what = f"row {number}"  # row k is layer k, as in the published listing
            ints = encoding.parse_ints(row, what)
            span = layout.layer_span(number)
            if len(ints) != span.stop - span.start:
                raise ArcError(
                    f"{what} has {plural(len(ints), 'number')}: needs {span.stop - span.start} "
                    f"(its op id, then {plural(layout.num_skips(number), 'skip bit')})"
                )
            layers.append(
                layer_from_checked_ints(
                    ints, number, OPS, lambda i, what=what: f"{what}, number {i}"
                )
            )
        return cls(tuple(layers))

    def __str__(self) -> str:
        return " | ".join(self.to_rows())

    # JSON ------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The readable, versioned form stored in arc.json.

        Layers are listed by op name with their skip sources (layer numbers, 0 = the stem) so a
        person can read the network; the original integers are kept alongside as `arc_string`
        so the arc can be pasted into the original code. `from_json` checks the two agree,
        which catches hand edits that changed only one of them.
        """
        return {
            "space": self.space,
            "version": self.VERSION,
            "num_layers": self.num_layers,
            "layers": [
                {"layer": number, "op": layer.op, "skips": list(layer.skip_sources())}
                for number, layer in enumerate(self.layers, start=1)
            ],
            "arc_string": self.to_string(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MacroArc:
        """Builds an arc from `to_json`'s form, checking space, version and every field.

        The named `layers` are the source of truth; either they or `arc_string` may be omitted
        (so a hand-written arc.json can hold just the published integers). Unknown top-level
        keys are ignored so later metadata does not break old readers.

        Raises:
          ArcError: wrong space or version, or any invalid/inconsistent field (named).
        """
        arc = encoding.arc_from_json(
            cls,
            data,
            named_key="layers",
            text_key="arc_string",
            from_named=_arc_from_named,
            from_text=cls.from_string,
            difference=_first_difference,
        )
        if "num_layers" in data and data["num_layers"] != arc.num_layers:
            raise ArcError(
                f"num_layers={data['num_layers']!r} but the arc has {arc.num_layers} layers"
            )
        return arc


# ---------------------------------------------------------------------------------------------
# Parsing helpers.


def _arc_from_checked_ints(ints: Sequence[Any], op_names: Sequence[str], locate) -> MacroArc:
    """Builds an arc from `num_tokens(L)` integers (length already checked).

    Args:
      ints: per layer, the op token then the skip bits (`layout.layer_span`).
      op_names: the ops in token order.
      locate: `locate(i)` names integer `i` (e.g. "token 7").
    """
    layers = []
    for number in layout.layer_numbers(layout.layers_for_length(len(ints))):
        span = layout.layer_span(number)
        layers.append(
            layer_from_checked_ints(
                ints[span],
                number,
                op_names,
                lambda i, start=span.start: locate(start + i),
            )
        )
    return MacroArc(tuple(layers))


def _arc_from_named(entries: Any) -> MacroArc:
    """Builds an arc from JSON layer objects `{"layer": k, "op": name, "skips": [j, ...]}`."""
    if not isinstance(entries, (list, tuple)) or not entries:
        raise ArcError(f"layers: expected a non-empty list of layers, got {entries!r}")
    return MacroArc(
        tuple(layer_from_named(entry, number) for number, entry in enumerate(entries, start=1))
    )


def _first_difference(a: MacroArc, b: MacroArc) -> str:
    """Names the first layer where two arcs differ, with both rows (for mismatch messages)."""
    if a.num_layers != b.num_layers:
        return f"arc_string has {a.num_layers} layers, the named layers {b.num_layers}"
    rows_a, rows_b = a.to_rows(), b.to_rows()
    for number, (row_a, row_b) in enumerate(zip(rows_a, rows_b, strict=True), start=1):
        if row_a != row_b:
            return f"layer {number}: arc_string has {row_a!r}, the named layers {row_b!r}"
    return "no difference"  # unreachable when a != b


_ENAS_MACRO_FINAL_ROWS: tuple[str, ...] = (
    "0",
    "3 0",
    "0 1 0",
    "2 0 0 1",
    "2 0 0 0 0",
    "3 1 1 0 1 0",
    "2 0 0 0 0 0 1",
    "2 0 1 1 0 1 1 1",
    "1 0 1 1 1 0 1 0 1",
    "0 0 0 0 0 0 0 0 0 0",
    "2 0 0 0 0 0 1 0 0 0 0",
    "0 1 0 0 1 1 0 0 0 0 1 1",
    "2 0 1 0 0 0 0 0 1 0 1 1 0",
    "1 0 0 1 0 0 0 1 1 1 0 1 0 1",
    "0 1 1 0 1 0 1 0 0 0 0 0 1 0 0",
    "2 0 0 1 0 0 0 0 0 0 0 1 0 1 0 1",
    "2 0 1 0 0 0 1 0 0 1 1 1 1 0 0 1 0",
    "2 0 0 0 0 1 0 1 0 1 0 0 1 0 1 0 0 1",
    "3 0 1 1 0 1 0 0 0 0 0 1 0 1 0 1 0 0 0",
    "3 0 1 1 0 0 0 0 0 0 0 0 0 1 1 0 0 0 0 1",
    "0 1 0 0 1 0 1 1 0 0 0 1 0 0 0 0 0 1 1 0 0",
    "3 0 1 0 1 1 0 0 1 0 1 1 0 1 1 0 1 0 0 1 0 0",
    "0 1 0 1 0 1 0 0 0 0 0 0 0 0 1 0 1 0 0 1 0 0 0",
    "0 1 1 0 0 0 1 1 1 0 1 0 0 0 1 0 1 0 0 1 1 0 0 0",
)
"""scripts/cifar10_macro_final.sh of the original code, one row per layer (as published)."""

PUBLISHED: dict[str, MacroArc] = {
    # 24 layers, ops restricted to 0-3; the paper's 4.23% error (96 filters, 21.3M params).
    "enas_macro_final": MacroArc.from_rows(_ENAS_MACRO_FINAL_ROWS),
}
"""Published macro architectures by name (loadable with `arc_io.load_arc(name)`)."""

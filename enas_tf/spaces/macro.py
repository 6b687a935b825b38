"""The macro (whole network) search space of ENAS (Pham et al. 2018, Section 2.3).

An architecture is a chain of `L` searched layers on top of a stem convolution. Layers are
numbered from 1, and the stem is layer 0 (the numbering of `enas_tf.models.macro` and of every
message and JSON field below). Layer k makes two kinds of decisions:

* its op, one of `OPS`, applied to the output of layer k - 1;
* its k - 1 skip bits: bit j (0 <= j <= k - 2) set means the output of layer j (0 = the stem)
  is also an input of layer k. Layer k - 1 already feeds the op, so it is not a skip source.

This is how the original code reads its integers (`general_child.py` keeps the stem at index 0
of its list of earlier outputs and indexes that list with the skip bit's position), and so the
only reading under which the published `enas_macro_final` is the network that was trained. In
Python terms, `arc.layers[i]` is layer `i + 1` and has `i` skip bits.

Encodings, all lossless and validated (an invalid `MacroArc` cannot be constructed):

* Objects: `MacroArc(layers=(MacroLayer(op, skips), ...))` with op names from `OPS`.
* Tokens (`to_tokens` / `from_tokens`): per layer, the op token then the skip bits, so
  `num_tokens(L) = L + L(L-1)/2` int32 values. With the default `op_names=OPS` an op token is
  the original code's op id; a search restricted to some ops (`parse_ops`) numbers its op tokens
  by position in the restriction instead, since that is what its controller emits and its
  supernet routes on. `decision_program` makes the controller emit exactly these tokens.
* Strings (`to_string` / `from_string`, `to_rows` / `from_rows`): the original scripts'
  integers with the original op ids, flat or one row per layer (the published listing).
* JSON (`to_json` / `from_json`): the readable, versioned form written to arc.json (see
  `enas_tf.spaces.arc_io`).

Size of the space: every layer picks one of 6 ops and every one of its skip bits independently,
so there are `6^L * 2^(L(L-1)/2)` token sequences, the paper's formula (1.6 x 10^29 at L = 12).
Unlike the micro space's formula it counts the space exactly; `search_space_size` computes it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Optional

import numpy as np

from enas_tf.errors import ArcError
from enas_tf.spaces import decisions, encoding

OPS: tuple[str, ...] = (
    "conv_3x3",
    "sep_conv_3x3",
    "conv_5x5",
    "sep_conv_5x5",
    "avg_pool_3x3",
    "max_pool_3x3",
)
"""Candidate ops; the position of a name is the original code's op id."""

NUM_OPS = len(OPS)

FIELDS: tuple[str, ...] = ("op", "skips")
"""Fields of one layer in the JSON form."""

_OP_LEGEND = ", ".join(f"{i} {name}" for i, name in enumerate(OPS))


# ---------------------------------------------------------------------------------------------
# Field checks shared by every constructor, so all encodings report problems the same way.


def _legend(op_names: Sequence[str]) -> str:
    return ", ".join(f"{i} {name}" for i, name in enumerate(op_names))


def _op_name_problem(value: Any) -> Optional[str]:
    """Why `value` cannot be the op name of a `MacroLayer`, or None if it can."""
    if isinstance(value, str) and value in OPS:
        return None
    return f"must be one of {', '.join(OPS)}"


def _op_token_problem(value: Any, op_names: Sequence[str]) -> Optional[str]:
    """Why `value` cannot be an op token over `op_names`, or None if it can."""
    if encoding.is_int(value) and 0 <= value < len(op_names):
        return None
    kind = "an op id" if tuple(op_names) == OPS else "an op token"
    return f"must be {kind} in [0, {len(op_names) - 1}] ({_legend(op_names)})"


def _bit_problem(value: Any) -> Optional[str]:
    """Why `value` cannot be a skip bit, or None if it can."""
    if encoding.is_int(value) and value in (0, 1):
        return None
    return "must be 0 or 1"


def _layer_name(layer: int) -> str:
    """`layer k` for messages; the stem is layer 0."""
    return "layer 0, the stem" if layer == 0 else f"layer {layer}"


def _skip_name(layer: int, source: int) -> str:
    """Names skip bit `source` of layer `layer` (both in the 1-based, stem = 0 numbering)."""
    return f"layer {layer}, skip from {_layer_name(source)}"


def _sources_text(layer: int) -> str:
    """Layer `layer`'s skip sources in words, for messages about its skip bits."""
    if layer == 1:
        return "layer 1 has no skip sources, the stem feeds its op"
    if layer == 2:
        return "layer 2's only skip source is layer 0, the stem"
    return (
        f"layer {layer}'s skip sources are layers 0 (the stem) to {layer - 2}; layer "
        f"{layer - 1} feeds its op"
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def _check_num_layers(num_layers: Any) -> int:
    if not encoding.is_int(num_layers) or num_layers < 1:
        raise ArcError(f"num_layers={encoding.show(num_layers)}: must be an integer >= 1")
    return int(num_layers)


def _layers_for_length(length: int) -> Optional[int]:
    """The L with `num_tokens(L) == length`, or None if there is none."""
    if length < 1:
        return None
    layers = (math.isqrt(8 * length + 1) - 1) // 2
    return layers if layers * (layers + 1) // 2 == length else None


def _length_hint(length: int) -> str:
    """The valid lengths around `length`, for messages about a sequence that fits no L."""
    below = (math.isqrt(8 * max(length, 1) + 1) - 1) // 2
    options = [(n, num_tokens(n)) for n in (below, below + 1) if n >= 1]
    return ", ".join(f"{count} for {n} layer{'s' * (n > 1)}" for n, count in options)


def _check_op_names(op_names: Any) -> tuple[str, ...]:
    """`op_names` as a tuple, after checking it is a non-empty list of distinct `OPS` names."""
    if isinstance(op_names, str) or not isinstance(op_names, Iterable):
        raise ArcError(
            f"op_names={op_names!r}: expected a sequence of op names (see parse_ops for strings)"
        )
    names = tuple(op_names)
    if not names:
        raise ArcError("op_names is empty: a macro layer needs at least one candidate op")
    for position, name in enumerate(names):
        problem = _op_name_problem(name)
        if problem:
            raise ArcError(f"op_names[{position}]={encoding.show(name)}: {problem}")
    if len(set(names)) != len(names):
        raise ArcError(f"op_names={list(names)}: lists an op twice")
    return names


# ---------------------------------------------------------------------------------------------
# The architecture objects.


@dataclasses.dataclass(frozen=True)
class MacroLayer:
    """One searched layer: its op and its skip bits.

    A layer alone does not know its position, so it only checks what it can (a known op name,
    0/1 bits); `MacroArc` checks that the number of bits matches the position.

    Attributes:
      op: name (from `OPS`) of the op applied to the previous layer's output.
      skips: one 0/1 bit per skip source; bit j set = the output of layer j (0 = the stem) is
        also an input. `arc.layers[i].skips` has `i` bits.
    """

    op: str
    skips: tuple[int, ...] = ()

    def __post_init__(self):
        problem = _op_name_problem(self.op)
        if problem:
            raise ArcError(f"op={encoding.show(self.op)}: {problem}")
        if isinstance(self.skips, (str, bytes)) or not isinstance(self.skips, Iterable):
            raise ArcError(f"skips={self.skips!r}: expected a sequence of 0/1 bits")
        skips = tuple(self.skips)
        for source, bit in enumerate(skips):
            problem = _bit_problem(bit)
            if problem:
                raise ArcError(f"skips[{source}]={encoding.show(bit)}: {problem}")
        # numpy ints -> int and lists -> tuples: hashable, JSON-serialisable, equal to literals.
        object.__setattr__(self, "skips", tuple(int(bit) for bit in skips))

    def skip_sources(self) -> tuple[int, ...]:
        """Layers (0 = the stem) whose outputs this layer takes as skip inputs, ascending."""
        return tuple(j for j, bit in enumerate(self.skips) if bit)


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
        for index, layer in enumerate(self.layers):
            name = _layer_name(index + 1)
            if not isinstance(layer, MacroLayer):
                raise ArcError(f"{name}: expected a MacroLayer, got {type(layer).__name__}")
            if len(layer.skips) != index:
                raise ArcError(
                    f"{name}, skips: has {_plural(len(layer.skips), 'bit')}, needs {index} (one "
                    f"per skip source: {_sources_text(index + 1)})"
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
        names = _check_op_names(op_names)
        for index, layer in enumerate(self.layers):
            if layer.op not in names:
                raise ArcError(
                    f"{_layer_name(index + 1)}, op={layer.op!r}: not among the allowed ops "
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
        names = _check_op_names(op_names)
        self.check_ops(names)
        tokens = []
        for layer in self.layers:
            tokens.append(names.index(layer.op))
            tokens.extend(layer.skips)
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
        names = _check_op_names(op_names)
        tokens = encoding.as_token_list(tokens)
        if num_layers is None:
            num_layers = _layers_for_length(len(tokens))
            if num_layers is None:
                raise ArcError(
                    f"got {len(tokens)} tokens: a macro arc of L layers has L + L(L-1)/2 (one op "
                    f"token per layer, then layer k's k - 1 skip bits), which fits no L "
                    f"({_length_hint(len(tokens))})"
                )
        num_layers = _check_num_layers(num_layers)
        if len(tokens) != num_tokens(num_layers):
            raise ArcError(
                f"expected {num_tokens(num_layers)} tokens for num_layers={num_layers} "
                f"({num_layers} op tokens + {num_tokens(num_layers) - num_layers} skip bits), "
                f"got {len(tokens)}"
            )
        return _arc_from_checked_ints(tokens, names, lambda i: f"token {i}")

    # Strings ---------------------------------------------------------------------------------

    def to_string(self) -> str:
        """All the original code's integers (original op ids), space separated, layer by layer."""
        return " ".join(self.to_rows())

    def to_rows(self) -> list[str]:
        """One string per layer, its op id then its skip bits: the published listing's rows."""
        return [
            " ".join(str(t) for t in [OPS.index(layer.op), *layer.skips]) for layer in self.layers
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
        num_layers = _layers_for_length(len(ints))
        if len(lines) > 1 and num_layers in (None, len(lines)):
            return cls.from_rows(lines)
        if num_layers is None:
            raise ArcError(
                f"arc string has {len(ints)} numbers: a macro arc of L layers has L + L(L-1)/2 "
                f"(layer k: its op id, then k - 1 skip bits), which fits no L "
                f"({_length_hint(len(ints))})"
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
        for index, row in enumerate(rows):
            what = f"row {index + 1}"  # row k is layer k, as in the published listing
            ints = encoding.parse_ints(row, what)
            if len(ints) != index + 1:
                raise ArcError(
                    f"{what} has {_plural(len(ints), 'number')}: needs {index + 1} (its op id, "
                    f"then {_plural(index, 'skip bit')})"
                )
            layers.append(
                _layer_from_checked_ints(
                    ints, index, OPS, lambda i, what=what: f"{what}, number {i}"
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
                {"layer": index + 1, "op": layer.op, "skips": list(layer.skip_sources())}
                for index, layer in enumerate(self.layers)
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


def _layer_from_checked_ints(
    ints: Sequence[Any], index: int, op_names: Sequence[str], locate
) -> MacroLayer:
    """Checks `arc.layers[index]`'s op token and bits with located messages, then builds it.

    Args:
      ints: the layer's `index + 1` integers.
      index: the layer's position in `arc.layers` (layer `index + 1`).
      op_names: the ops in token order.
      locate: `locate(i)` names integer `i` of this layer (e.g. its token position).
    """
    layer = index + 1
    problem = _op_token_problem(ints[0], op_names)
    if problem:
        raise ArcError(
            f"{locate(0)} ({_layer_name(layer)}, op) = {encoding.show(ints[0])}: {problem}"
        )
    for source, bit in enumerate(ints[1:]):
        problem = _bit_problem(bit)
        if problem:
            raise ArcError(
                f"{locate(source + 1)} ({_skip_name(layer, source)}) = "
                f"{encoding.show(bit)}: {problem}"
            )
    return MacroLayer(op_names[int(ints[0])], tuple(int(bit) for bit in ints[1:]))


def _arc_from_checked_ints(ints: Sequence[Any], op_names: Sequence[str], locate) -> MacroArc:
    """Builds an arc from `num_tokens(L)` integers (length already checked).

    Args:
      ints: per layer, the op token then the skip bits.
      op_names: the ops in token order.
      locate: `locate(i)` names integer `i` (e.g. "token 7").
    """
    layers, start = [], 0
    for index in range(_layers_for_length(len(ints))):
        layers.append(
            _layer_from_checked_ints(
                ints[start : start + index + 1],
                index,
                op_names,
                lambda i, start=start: locate(start + i),
            )
        )
        start += index + 1
    return MacroArc(tuple(layers))


def _arc_from_named(entries: Any) -> MacroArc:
    """Builds an arc from JSON layer objects `{"layer": k, "op": name, "skips": [j, ...]}`."""
    if not isinstance(entries, (list, tuple)) or not entries:
        raise ArcError(f"layers: expected a non-empty list of layers, got {entries!r}")
    layers = []
    for index, entry in enumerate(entries):
        layer = index + 1
        prefix = _layer_name(layer)
        if not isinstance(entry, Mapping):
            raise ArcError(f"{prefix}: expected an object with {', '.join(FIELDS)}, got {entry!r}")
        unknown = sorted(set(entry) - {"layer", *FIELDS})
        if unknown:
            raise ArcError(f"{prefix}: unknown field(s) {unknown}; expected {', '.join(FIELDS)}")
        if "layer" in entry and entry["layer"] != layer:
            raise ArcError(
                f"layers entry {index} says layer={entry['layer']!r} but entry {index} is layer "
                f"{layer}: list the layers in order starting at 1 (the stem is layer 0)"
            )
        for field in FIELDS:
            if field not in entry:
                raise ArcError(f"{prefix}: missing field {field!r}")
        problem = _op_name_problem(entry["op"])
        if problem:
            raise ArcError(f"{prefix}, op={encoding.show(entry['op'])}: {problem}")
        sources = entry["skips"]
        if not isinstance(sources, (list, tuple)):
            raise ArcError(
                f"{prefix}, skips={sources!r}: expected a list of the layer numbers it takes skip "
                f"inputs from ({_sources_text(layer)})"
            )
        bits = [0] * index
        for source in sources:
            if not encoding.is_int(source) or not 0 <= source < index:
                raise ArcError(
                    f"{prefix}, skips entry {encoding.show(source)}: not a skip source; "
                    f"{_sources_text(layer)}"
                )
            if bits[source]:
                raise ArcError(f"{prefix}, skips: lists {_layer_name(int(source))} twice")
            bits[source] = 1
        layers.append(MacroLayer(entry["op"], tuple(bits)))
    return MacroArc(tuple(layers))


def _first_difference(a: MacroArc, b: MacroArc) -> str:
    """Names the first layer where two arcs differ, with both rows (for mismatch messages)."""
    if a.num_layers != b.num_layers:
        return f"arc_string has {a.num_layers} layers, the named layers {b.num_layers}"
    rows_a, rows_b = a.to_rows(), b.to_rows()
    for index, (row_a, row_b) in enumerate(zip(rows_a, rows_b, strict=True)):
        if row_a != row_b:
            return f"layer {index + 1}: arc_string has {row_a!r}, the named layers {row_b!r}"
    return "no difference"  # unreachable when a != b


# ---------------------------------------------------------------------------------------------
# Space-level helpers.


def parse_ops(spec: Any) -> tuple[str, ...]:
    """The candidate ops a search uses, from a config value; ordered by original op id.

    The authors' final macro script restricts the ops to the four convolutions; configs say so
    with e.g. `"0,1,2,3"` or `"conv_3x3,sep_conv_3x3,conv_5x5,sep_conv_5x5"`. Ordering by id
    (not as written) makes the token numbering independent of how the restriction is spelled.

    Args:
      spec: "all"; a comma-separated string of op names or original op ids; or a sequence of
        names / ids. Names and ids may be mixed; duplicates are ignored.

    Returns:
      The op names, deduplicated, ordered by original op id (`OPS` order).

    Raises:
      ArcError: an entry that is neither a name nor an id (named with the allowed values), or
        an empty restriction.
    """
    allowed = f"allowed: 'all', or op names/ids {_OP_LEGEND}"
    if isinstance(spec, str):
        if spec.strip() == "all":
            return OPS
        entries: list[Any] = spec.split(",") if spec.strip() else []
    elif isinstance(spec, Iterable) and not isinstance(spec, bytes):
        entries = list(spec)
    else:
        raise ArcError(
            f"ops={spec!r}: expected 'all', a comma-separated string or a list; {allowed}"
        )
    if all(isinstance(entry, str) and not entry.strip() for entry in entries):
        raise ArcError(f"ops={spec!r}: no ops given, a search needs at least one; {allowed}")
    chosen = set()
    for position, entry in enumerate(entries):
        value = entry.strip() if isinstance(entry, str) else entry
        if value == "":
            raise ArcError(f"ops={spec!r}: entry {position} is empty (a stray comma?); {allowed}")
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, str) and value in OPS:
            chosen.add(value)
        elif encoding.is_int(value) and 0 <= value < NUM_OPS:
            chosen.add(OPS[int(value)])
        else:
            raise ArcError(f"ops entry {position} = {entry!r}: not an op; {allowed}")
    return tuple(op for op in OPS if op in chosen)


def num_tokens(num_layers: int) -> int:
    """Tokens of an arc of `num_layers` layers: one op token each plus L(L-1)/2 skip bits."""
    num_layers = _check_num_layers(num_layers)
    return num_layers + num_layers * (num_layers - 1) // 2


def op_token_positions(num_layers: int) -> list[int]:
    """Token index of each layer's op token (`arc.layers[i]`'s is `i (i + 1) / 2`)."""
    num_layers = _check_num_layers(num_layers)
    return [i * (i + 1) // 2 for i in range(num_layers)]


def skip_token_mask(num_layers: int) -> np.ndarray:
    """bool [num_tokens(num_layers)]: True at skip-bit positions, False at op tokens.

    Lets models and losses treat the two kinds of token differently without re-deriving the
    layout (e.g. a skip-density penalty, or slicing the bits out of a sampled arc tensor).
    """
    mask = np.ones([num_tokens(num_layers)], bool)
    mask[op_token_positions(num_layers)] = False
    return mask


def tokens_are_valid(tokens: Any, num_layers: int, op_names: Sequence[str] = OPS) -> bool:
    """Whether `tokens` encode an arc of `num_layers` layers over `op_names`."""
    try:
        MacroArc.from_tokens(tokens, num_layers, op_names)
    except ArcError:
        return False
    return True


def search_space_size(num_layers: int, num_ops: int = NUM_OPS) -> int:
    """Number of arcs: `num_ops^L * 2^(L(L-1)/2)`, exactly (1.6 x 10^29 at L = 12, 6 ops).

    Every layer's op and every skip bit is an independent decision and different token
    sequences are different networks, so this counts both the token sequences the controller
    can sample and the architectures.

    Args:
      num_layers: L.
      num_ops: candidate ops per layer (fewer when the search is restricted by `parse_ops`).
    """
    num_layers = _check_num_layers(num_layers)
    if not encoding.is_int(num_ops) or num_ops < 1:
        raise ArcError(f"num_ops={encoding.show(num_ops)}: must be an integer >= 1")
    return int(num_ops) ** num_layers * 2 ** (num_layers * (num_layers - 1) // 2)


def sample_random_arc(
    num_layers: int,
    rng: np.random.Generator,
    op_names: Sequence[str] = OPS,
    skip_prob: float = 0.5,
) -> MacroArc:
    """A random arc: each op uniform over `op_names`, each skip bit 1 with `skip_prob`.

    Decisions are drawn in token order. With the default `skip_prob=0.5` every token sequence
    is equally likely, i.e. uniform over the space `search_space_size` counts: the paper's
    random-search baseline (3.3).

    Args:
      num_layers: L.
      rng: the source of randomness; pass `np.random.default_rng(seed)` for reproducibility.
      op_names: the candidate ops (e.g. a `parse_ops` restriction).
      skip_prob: probability of each skip bit being 1.
    """
    num_layers = _check_num_layers(num_layers)
    names = _check_op_names(op_names)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    if not 0.0 <= skip_prob <= 1.0:
        raise ValueError(f"skip_prob={skip_prob!r}: must be a probability in [0, 1]")
    layers = []
    for index in range(num_layers):
        op = names[int(rng.integers(len(names)))]
        bits = tuple(int(rng.random() < skip_prob) for _ in range(index))
        layers.append(MacroLayer(op, bits))
    return MacroArc(tuple(layers))


def decision_program(num_layers: int, num_ops: int = NUM_OPS) -> tuple[decisions.DecisionStep, ...]:
    """The controller's program for the macro space; its tokens are `MacroArc.to_tokens()`.

    Each layer costs two LSTM steps, as in the authors' controller: the op choice, then the
    skip choice, whose output is also pushed as the layer's anchor (`push_anchor`). Layer 1 has
    no skip decision, so an `AnchorStep` runs that second step and provides its anchor.

    Layer k's `SkipChoice(k - 1)` attends to the anchors of layers 1..k-1, so skip bit j is
    scored against the anchor of layer j + 1 while it selects layer j (the stem, j = 0, has no
    anchor). That offset is the authors' pairing too, kept so the controller is theirs. It does
    not limit the policy (every bit still has its own logit), but the anchor a bit is scored
    against describes the layer after the one it connects.

    Args:
      num_layers: L.
      num_ops: candidate ops per layer (`len(parse_ops(...))` for a restricted search).
    """
    num_layers = _check_num_layers(num_layers)
    if not encoding.is_int(num_ops) or num_ops < 1:
        raise ArcError(f"num_ops={encoding.show(num_ops)}: must be an integer >= 1")
    steps: list[decisions.DecisionStep] = []
    for index in range(num_layers):
        steps.append(decisions.OpChoice(int(num_ops), group="op"))
        if index == 0:
            steps.append(decisions.AnchorStep())
        else:
            steps.append(decisions.SkipChoice(index, push_anchor=True))
    return tuple(steps)


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

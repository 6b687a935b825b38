"""The macro space's layers: `MacroLayer`, its field checks and parsers.

Every constructor of a layer (tokens, the original integers, JSON) checks fields through the
same functions, so all encodings report a problem the same way: which token or entry, which
layer, which field, what is allowed. Layer numbers in messages are 1-based, the stem is layer 0
(`enas_tf.spaces.macro.layout`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional

from enas_tf.errors import ArcError
from enas_tf.spaces import encoding
from enas_tf.spaces.macro.layout import FIELDS, OPS, num_skips


def _legend(op_names: Sequence[str]) -> str:
    return ", ".join(f"{i} {name}" for i, name in enumerate(op_names))


def op_name_problem(value: Any) -> Optional[str]:
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


def layer_name(layer: int) -> str:
    """`layer k` for messages; the stem is layer 0."""
    return "layer 0, the stem" if layer == 0 else f"layer {layer}"


def _skip_name(layer: int, source: int) -> str:
    """Names skip bit `source` of layer `layer` (both in the 1-based, stem = 0 numbering)."""
    return f"layer {layer}, skip from {layer_name(source)}"


def sources_text(layer: int) -> str:
    """Layer `layer`'s skip sources in words, for messages about its skip bits."""
    if layer == 1:
        return "layer 1 has no skip sources, the stem feeds its op"
    if layer == 2:
        return "layer 2's only skip source is layer 0, the stem"
    return (
        f"layer {layer}'s skip sources are layers 0 (the stem) to {layer - 2}; layer "
        f"{layer - 1} feeds its op"
    )


def plural(count: int, noun: str) -> str:
    """`1 bit`, `2 bits`: counts in messages."""
    return f"{count} {noun}{'s' * (count != 1)}"


def check_op_names(op_names: Any) -> tuple[str, ...]:
    """`op_names` as a tuple, after checking it is a non-empty list of distinct `OPS` names.

    Every function that takes a search's op restriction checks it here, so a typo in it is
    reported before it can renumber op tokens.
    """
    if isinstance(op_names, str) or not isinstance(op_names, Iterable):
        raise ArcError(
            f"op_names={op_names!r}: expected a sequence of op names (see parse_ops for strings)"
        )
    names = tuple(op_names)
    if not names:
        raise ArcError("op_names is empty: a macro layer needs at least one candidate op")
    for position, name in enumerate(names):
        problem = op_name_problem(name)
        if problem:
            raise ArcError(f"op_names[{position}]={encoding.show(name)}: {problem}")
    if len(set(names)) != len(names):
        raise ArcError(f"op_names={list(names)}: lists an op twice")
    return names


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
        problem = op_name_problem(self.op)
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


def layer_from_checked_ints(
    ints: Sequence[Any], layer: int, op_names: Sequence[str], locate
) -> MacroLayer:
    """Checks layer `layer`'s op token and bits with located messages, then builds it.

    Args:
      ints: the layer's integers, its op token then its `num_skips(layer)` bits (length
        already checked).
      layer: the layer's number (1-based; `arc.layers[layer - 1]`).
      op_names: the ops in token order.
      locate: `locate(i)` names integer `i` of this layer (e.g. its token position).
    """
    op, *bits = ints
    problem = _op_token_problem(op, op_names)
    if problem:
        raise ArcError(f"{locate(0)} ({layer_name(layer)}, op) = {encoding.show(op)}: {problem}")
    for source, bit in enumerate(bits):
        problem = _bit_problem(bit)
        if problem:
            raise ArcError(
                f"{locate(source + 1)} ({_skip_name(layer, source)}) = "
                f"{encoding.show(bit)}: {problem}"
            )
    return MacroLayer(op_names[int(op)], tuple(int(bit) for bit in bits))


def layer_from_named(entry: Any, layer: int) -> MacroLayer:
    """Builds layer `layer` from its JSON object `{"layer": k, "op": name, "skips": [j, ...]}`.

    The JSON form lists skip sources by layer number (a set: order does not matter) so a person
    can read it; each must be one of the layer's sources.
    """
    prefix = layer_name(layer)
    index = layer - 1
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
    problem = op_name_problem(entry["op"])
    if problem:
        raise ArcError(f"{prefix}, op={encoding.show(entry['op'])}: {problem}")
    sources = entry["skips"]
    if not isinstance(sources, (list, tuple)):
        raise ArcError(
            f"{prefix}, skips={sources!r}: expected a list of the layer numbers it takes skip "
            f"inputs from ({sources_text(layer)})"
        )
    bits = [0] * num_skips(layer)
    for source in sources:
        if not encoding.is_int(source) or not 0 <= source < len(bits):
            raise ArcError(
                f"{prefix}, skips entry {encoding.show(source)}: not a skip source; "
                f"{sources_text(layer)}"
            )
        if bits[source]:
            raise ArcError(f"{prefix}, skips: lists {layer_name(int(source))} twice")
        bits[source] = 1
    return MacroLayer(entry["op"], tuple(bits))

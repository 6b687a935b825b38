"""The macro space's token layout: where each layer's decisions sit in the arc's int32 tokens.

The one place that says how a `MacroArc` is laid out as tokens and as controller decisions. The
arc codec (`MacroArc.to_tokens` / `from_tokens`, the rows of `to_rows`), the controller's
`decision_program`, the random baseline, the supernet (`enas_tf.models.macro`,
`enas_tf.layers.macro_layers`) and the policy pictures all read it here:

    tokens = layer 1, layer 2, ..., layer L          (num_tokens(L) = L + L(L-1)/2)
    layer k = op token, then k - 1 skip bits         (layer_span(k); skip_span(k) for the bits)

Layers are numbered from 1 and the stem is layer 0, as in every message of the space; layer k's
skip bit j (0 <= j <= k - 2) selects layer j as an extra input (`num_skips`).

The controller makes one decision per op token and one `SkipChoice` per layer for all of its
bits, so decisions and tokens are numbered differently: layer 1's op is decision 0 and layer
k > 1 has its op at decision 2k - 3 and its skips at 2k - 2 (`op_decision`, `skip_decision`).
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

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
"""Fields of one layer, in token order and in the JSON form."""

OP_LEGEND = ", ".join(f"{i} {name}" for i, name in enumerate(OPS))
"""`0 conv_3x3, 1 sep_conv_3x3, ...`: the op ids, for messages."""


def check_num_layers(num_layers: Any) -> int:
    """`num_layers` as an int, or `ArcError` unless it is an integer >= 1."""
    if not encoding.is_int(num_layers) or num_layers < 1:
        raise ArcError(f"num_layers={encoding.show(num_layers)}: must be an integer >= 1")
    return int(num_layers)


def _check_layer(layer: Any) -> int:
    """`layer` as an int, or `ArcError` unless it names a searched layer (>= 1; 0 is the stem)."""
    if not encoding.is_int(layer) or layer < 1:
        raise ArcError(
            f"layer={encoding.show(layer)}: must be an integer >= 1 (layer 0 is the stem, "
            "which has no tokens)"
        )
    return int(layer)


def layer_numbers(num_layers: int) -> range:
    """The searched layers 1..L in token (and decision) order; the stem, layer 0, is not one."""
    return range(1, check_num_layers(num_layers) + 1)


def num_skips(layer: int) -> int:
    """Skip bits of layer `layer`: one per source 0 .. k - 2 (layer k - 1 already feeds its op).

    Bit j of a layer is its skip from layer j, so `range(num_skips(k))` are layer k's sources.
    """
    return _check_layer(layer) - 1


def op_token_position(layer: int) -> int:
    """Token index of layer `layer`'s op token: the k - 1 layers before it hold k(k-1)/2 tokens."""
    layer = _check_layer(layer)
    return (layer - 1) * layer // 2


def layer_span(layer: int) -> slice:
    """Layer `layer`'s tokens, its op token then its skip bits, as a slice of the arc's tokens.

    A slice works on lists, numpy arrays and (symbolic) tensors alike, so the codec and the
    supernet cut the same way.
    """
    start = op_token_position(layer)
    return slice(start, start + 1 + num_skips(layer))


def skip_span(layer: int) -> slice:
    """Layer `layer`'s skip bits as a slice of the arc's tokens (empty for layer 1)."""
    span = layer_span(layer)
    return slice(span.start + 1, span.stop)


def layer_tokens(tokens: Any, layer: int) -> tuple[Any, Any]:
    """`(op_token, skip_bits)` of layer `layer`, by indexing; lists, arrays and tensors.

    The supernet routes layer k on exactly these: the op token picks a branch, the bits pick
    the skip sources.
    """
    return tokens[op_token_position(layer)], tokens[skip_span(layer)]


def num_tokens(num_layers: int) -> int:
    """Tokens of an arc of `num_layers` layers: one op token each plus L(L-1)/2 skip bits."""
    return layer_span(check_num_layers(num_layers)).stop


def layers_for_length(length: int) -> Optional[int]:
    """The L with `num_tokens(L) == length`, or None if there is none (e.g. a truncated arc)."""
    if length < 1:
        return None
    layers = (math.isqrt(8 * length + 1) - 1) // 2
    return layers if num_tokens(layers) == length else None


def length_hint(length: int) -> str:
    """The valid lengths around `length`, for messages about a sequence that fits no L."""
    below = (math.isqrt(8 * max(length, 1) + 1) - 1) // 2
    options = [(n, num_tokens(n)) for n in (below, below + 1) if n >= 1]
    return ", ".join(f"{count} for {n} layer{'s' * (n > 1)}" for n, count in options)


def op_token_positions(num_layers: int) -> list[int]:
    """Token index of each layer's op token, layers 1..L (`arc.layers[i]`'s is `i (i + 1) / 2`)."""
    return [op_token_position(layer) for layer in layer_numbers(num_layers)]


def skip_token_mask(num_layers: int) -> np.ndarray:
    """bool [num_tokens(num_layers)]: True at skip-bit positions, False at op tokens.

    Lets models and losses treat the two kinds of token differently without re-deriving the
    layout (e.g. a skip-density penalty, or slicing the bits out of a sampled arc tensor).
    """
    mask = np.zeros([num_tokens(num_layers)], bool)
    for layer in layer_numbers(num_layers):
        mask[skip_span(layer)] = True
    return mask


def pool_after(num_layers: int) -> tuple[int, ...]:
    """1-based layers after which the network halves its resolution: L/3 and 2L/3 (rounded down).

    Part of the space, not of an arc: every macro network of L layers pools at the same places.
    The authors' code pools after 0-based layers `L//3 - 1` and `2 * (L//3) - 1`, i.e. after
    1-based layers `L//3` and `2 * (L//3)`; for L < 3 there is no pooling step. The models
    (`enas_tf.models.macro`) and the arc pictures both read it here.
    """
    distance = num_layers // 3
    return (distance, 2 * distance) if distance >= 1 else ()


def op_decision(layer: int) -> int:
    """Index in `decisions.decision_steps(decision_program(L))` of layer `layer`'s op choice.

    Layer 1 decides only its op (its second controller step is an `AnchorStep`, which decides
    nothing); every later layer decides its op, then its skips: 0, 1, 3, 5, ..., 2k - 3.
    """
    layer = _check_layer(layer)
    return 0 if layer == 1 else 2 * layer - 3


def skip_decision(layer: int) -> int:
    """Index in `decisions.decision_steps(decision_program(L))` of layer `layer`'s skip choice.

    One `SkipChoice` decides all of a layer's bits, right after its op: 2k - 2 for layer k.

    Raises:
      ArcError: `layer` is 1, which has no skip sources and so no skip decision.
    """
    if num_skips(layer) == 0:
        raise ArcError("layer 1 has no skip decision: the stem feeds its op")
    return op_decision(layer) + 1


def choice_panels(
    num_layers: int, op_names: Sequence[str] = OPS
) -> tuple[decisions.ChoicePanel, ...]:
    """The policy pictures of the macro space: the op of every layer, and its skips.

    "macro_ops" has one row per layer ("layer 1" .. "layer L") and one column per op. With two
    or more layers, "macro_skips" has one row per layer with skip sources ("layer 2" ..
    "layer L") and one column per source ("stem", "1", ..., "L-2"); a skip bit is an independent
    Bernoulli, so its rows are not one softmax (`categorical=False`). Layer k's row fills its
    first k - 1 columns.

    Args:
      num_layers: L.
      op_names: the ops in token order (the search's `parse_ops` restriction).
    """
    layers = layer_numbers(num_layers)
    labels = tuple(f"layer {k}" for k in layers)
    panels = [
        decisions.ChoicePanel(
            "macro_ops",
            tuple(op_decision(k) for k in layers),
            labels,
            tuple(op_names),
            row_title="layer",
            col_title="op",
        )
    ]
    skipping = [k for k in layers if num_skips(k)]
    if skipping:
        sources = range(num_skips(layers[-1]))
        panels.append(
            decisions.ChoicePanel(
                "macro_skips",
                tuple(skip_decision(k) for k in skipping),
                tuple(f"layer {k}" for k in skipping),
                tuple("stem" if j == 0 else str(j) for j in sources),
                categorical=False,
                row_title="layer",
                col_title="skip source layer",
            )
        )
    return tuple(panels)

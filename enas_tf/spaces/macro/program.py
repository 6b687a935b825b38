"""The macro space as a search sees it: its op restriction, decisions, sampling, counting.

`parse_ops` reads a config's op restriction, which numbers the op tokens of everything below;
`decision_program` makes the controller emit exactly `MacroArc.to_tokens()`'s order
(`enas_tf.spaces.macro.layout`); `sample_random_arc` is the random-search baseline and
`search_space_size` the paper's count (see the package docstring).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from enas_tf.errors import ArcError
from enas_tf.spaces import decisions, encoding
from enas_tf.spaces.macro import layout
from enas_tf.spaces.macro.arc import MacroArc
from enas_tf.spaces.macro.layers import MacroLayer, check_op_names
from enas_tf.spaces.macro.layout import NUM_OPS, OP_LEGEND, OPS


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
    allowed = f"allowed: 'all', or op names/ids {OP_LEGEND}"
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


def _check_num_ops(num_ops: Any) -> int:
    if not encoding.is_int(num_ops) or num_ops < 1:
        raise ArcError(f"num_ops={encoding.show(num_ops)}: must be an integer >= 1")
    return int(num_ops)


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
    num_layers = layout.check_num_layers(num_layers)
    num_ops = _check_num_ops(num_ops)
    bits = layout.num_tokens(num_layers) - num_layers  # every token but the op tokens
    return num_ops**num_layers * 2**bits


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
    layers_range = layout.layer_numbers(num_layers)
    names = check_op_names(op_names)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    if not 0.0 <= skip_prob <= 1.0:
        raise ValueError(f"skip_prob={skip_prob!r}: must be a probability in [0, 1]")
    layers = []
    for layer in layers_range:
        op = names[int(rng.integers(len(names)))]
        bits = tuple(int(rng.random() < skip_prob) for _ in range(layout.num_skips(layer)))
        layers.append(MacroLayer(op, bits))
    return MacroArc(tuple(layers))


def decision_program(num_layers: int, num_ops: int = NUM_OPS) -> tuple[decisions.DecisionStep, ...]:
    """The controller's program for the macro space; its tokens are `MacroArc.to_tokens()`.

    Each layer costs two LSTM steps, as in the authors' controller: the op choice, then the
    skip choice, whose output is also pushed as the layer's anchor (`push_anchor`). Layer 1 has
    no skip decision, so an `AnchorStep` runs that second step and provides its anchor. The
    deciding steps are therefore numbered as `layout.op_decision` / `layout.skip_decision` say.

    Layer k's `SkipChoice(k - 1)` attends to the anchors of layers 1..k-1, so skip bit j is
    scored against the anchor of layer j + 1 while it selects layer j (the stem, j = 0, has no
    anchor). That offset is the authors' pairing too, kept so the controller is theirs. It does
    not limit the policy (every bit still has its own logit), but the anchor a bit is scored
    against describes the layer after the one it connects.

    Args:
      num_layers: L.
      num_ops: candidate ops per layer (`len(parse_ops(...))` for a restricted search).
    """
    layers = layout.layer_numbers(num_layers)
    num_ops = _check_num_ops(num_ops)
    steps: list[decisions.DecisionStep] = []
    for layer in layers:
        steps.append(decisions.OpChoice(num_ops, group="op"))
        skips = layout.num_skips(layer)
        if skips:
            steps.append(decisions.SkipChoice(skips, push_anchor=True))
        else:
            steps.append(decisions.AnchorStep())
    return tuple(steps)

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

Modules, one concern each: `layout` (the token layout and the controller's decision indices,
read by codec, controller program, supernet and pictures alike), `layers` (`MacroLayer`, its
field checks and parsers), `arc` (`MacroArc` and its encodings; `PUBLISHED`), `program` (the op
restriction `parse_ops`, decision program, random sampling, counting). Import the package:
`from enas_tf.spaces import macro; macro.MacroArc`.

Size of the space: every layer picks one of 6 ops and every one of its skip bits independently,
so there are `6^L * 2^(L(L-1)/2)` token sequences, the paper's formula (1.6 x 10^29 at L = 12).
Unlike the micro space's formula it counts the space exactly; `search_space_size` computes it.
"""

from enas_tf.spaces.macro.arc import PUBLISHED, MacroArc
from enas_tf.spaces.macro.graph import arc_graph
from enas_tf.spaces.macro.layers import MacroLayer
from enas_tf.spaces.macro.layout import (
    FIELDS,
    NUM_OPS,
    OPS,
    choice_panels,
    layer_span,
    layer_tokens,
    num_skips,
    num_tokens,
    op_decision,
    op_token_position,
    op_token_positions,
    pool_after,
    skip_decision,
    skip_span,
    skip_token_mask,
)
from enas_tf.spaces.macro.program import (
    decision_program,
    parse_ops,
    sample_random_arc,
    search_space_size,
    tokens_are_valid,
)

__all__ = [
    "FIELDS",
    "NUM_OPS",
    "OPS",
    "PUBLISHED",
    "MacroArc",
    "MacroLayer",
    "arc_graph",
    "choice_panels",
    "decision_program",
    "layer_span",
    "layer_tokens",
    "num_skips",
    "num_tokens",
    "op_decision",
    "op_token_position",
    "op_token_positions",
    "parse_ops",
    "pool_after",
    "sample_random_arc",
    "search_space_size",
    "skip_decision",
    "skip_span",
    "skip_token_mask",
    "tokens_are_valid",
]

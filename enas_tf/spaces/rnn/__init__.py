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

Modules, one concern each: `layout` (the token layout, read by codec, controller program, shared
cell and pictures alike; `choice_panels`), `nodes` (`RnnNode`, its field checks and the parsers
of node lists), `arc` (`RnnArc` and its encodings; `PUBLISHED`), `program` (decision program,
uniform sampling, counting). Import the package: `from enas_tf.spaces import rnn; rnn.RnnArc`.

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

from enas_tf.spaces.rnn.arc import OUTPUT_MODES, PUBLISHED, RnnArc
from enas_tf.spaces.rnn.graph import arc_graph
from enas_tf.spaces.rnn.layout import (
    ACTIVATIONS,
    CELL_INPUT,
    FIELDS,
    NUM_ACTIVATIONS,
    activation_position,
    choice_panels,
    num_tokens,
    prev_position,
)
from enas_tf.spaces.rnn.nodes import RnnNode
from enas_tf.spaces.rnn.program import (
    decision_program,
    paper_search_space_size,
    sample_random_arc,
    search_space_size,
    tokens_are_valid,
)

__all__ = [
    "ACTIVATIONS",
    "CELL_INPUT",
    "FIELDS",
    "NUM_ACTIVATIONS",
    "OUTPUT_MODES",
    "PUBLISHED",
    "RnnArc",
    "RnnNode",
    "activation_position",
    "arc_graph",
    "choice_panels",
    "decision_program",
    "num_tokens",
    "paper_search_space_size",
    "prev_position",
    "sample_random_arc",
    "search_space_size",
    "tokens_are_valid",
]

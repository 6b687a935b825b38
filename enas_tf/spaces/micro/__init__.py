"""The micro (convolutional cell) search space of ENAS (Pham et al. 2018, Section 2.4).

An architecture is two cells, a normal cell and a reduction cell, with the same number of
computed nodes. A cell is a small DAG: nodes 0 and 1 are the cell's inputs (the outputs of the
two previous cells; the paper numbers them 1 and 2) and every computed node `k >= 2` picks two
earlier nodes `input_a, input_b` in `[0, k - 1]` and one op for each, and adds the results:

    h_k = op_a(h[input_a]) + op_b(h[input_b])

The cell output concatenates the loose ends, the computed nodes no later node uses. The reduction
cell is the same kind of graph with its ops applied at stride 2 to the cell inputs.

Encodings, all lossless and validated (an invalid `MicroArc` cannot be constructed):

* Objects: `MicroArc(normal=MicroCell(nodes=(MicroNode(input_a, op_a, input_b, op_b), ...)), ...)`
  with op names from `OPS`; node indices are 0-based and absolute (0, 1 = cell inputs).
* Tokens (`to_tokens` / `from_tokens`): the original code's integers, per node
  `input_a op_a input_b op_b` with op ids = positions in `OPS`, normal cell then reduction cell
  (`8 * num_nodes` int32 values). This is exactly the token sequence `decision_program` makes the
  controller emit, and what the supernet routes on.
* Strings (`to_string` / `from_strings`): the original scripts' space-separated form, one string
  per cell, e.g. the published `enas_micro_final` in `PUBLISHED`.
* JSON (`to_json` / `from_json`): the readable, versioned form written to arc.json (see
  `enas_tf.spaces.arc_io`).

Modules, one concern each: `layout` (the token layout, read by codec, controller program,
supernet and pictures alike), `cells` (nodes and cells, their field checks and parsers), `arc`
(`MicroArc` and its encodings; `PUBLISHED`), `program` (decision program, uniform sampling,
counting). Import the package: `from enas_tf.spaces import micro; micro.MicroArc`.

Size of the space. The paper says "(5 x (B-2)!)^4 ... 1.3 x 10^11 at B = 7". Counting by the
definition it gives in the same paragraph (at node i, 3 <= i <= B, any two of the i-1 previous
nodes and any two of 5 ops, all decisions independent) gives, per cell,

    prod_{k=2}^{B-1} (5 k)^2 = (5^(B-2) * (B-1)!)^2

distinct token sequences (ordered: operand a and operand b are separate decisions), and the
square of that for a (normal, reduction) pair: 2.56 x 10^25 at B = 7. The paper's formula
undercounts in two ways: the ops contribute 5^(2(B-2)) per cell, not 5^2, and the inputs
((B-1)!)^2, not ((B-2)!)^2. It is not a count of any reading of the space: even identifying a
node's two operands as an unordered pair (their sum commutes) leaves 4.39 x 10^22 at B = 7, and
already at B = 3 (one node) the formula gives 625 arcs where there are 10^4 (3025 unordered). The
published 1.3 x 10^11 is what the formula evaluates to, (5 * 5!)^4 = 600^4 = 1.296 x 10^11; it is
not the size of the space. `search_space_size` counts by the definition (tested against
brute-force enumeration), `paper_search_space_size` evaluates the paper's formula. Neither is the
number of distinct functions: besides the operand swap, nodes that do not depend on each other
can be renumbered without changing the cell.
"""

from enas_tf.spaces.micro.arc import PUBLISHED, MicroArc
from enas_tf.spaces.micro.cells import MicroCell, MicroNode
from enas_tf.spaces.micro.graph import arc_graph
from enas_tf.spaces.micro.layout import (
    CELLS,
    FIELDS,
    NUM_CELL_INPUTS,
    NUM_OPS,
    OP_BIAS_INIT,
    OPS,
    choice_panels,
    num_tokens,
    split_tokens,
)
from enas_tf.spaces.micro.program import (
    decision_program,
    paper_search_space_size,
    sample_random_arc,
    search_space_size,
    tokens_are_valid,
)

__all__ = [
    "CELLS",
    "FIELDS",
    "NUM_CELL_INPUTS",
    "NUM_OPS",
    "OPS",
    "OP_BIAS_INIT",
    "PUBLISHED",
    "MicroArc",
    "MicroCell",
    "MicroNode",
    "arc_graph",
    "choice_panels",
    "decision_program",
    "num_tokens",
    "paper_search_space_size",
    "sample_random_arc",
    "search_space_size",
    "split_tokens",
    "tokens_are_valid",
]

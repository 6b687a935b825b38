"""The micro space as the controller and the baselines see it: decisions, sampling, counting.

`decision_program` makes the controller emit exactly `MicroArc.to_tokens()`'s order
(`enas_tf.spaces.micro.layout`); `sample_random_arc` is the random-search baseline; the two
counts are discussed in the package docstring.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from enas_tf.errors import ArcError
from enas_tf.spaces import decisions
from enas_tf.spaces.micro.arc import MicroArc
from enas_tf.spaces.micro.layout import (
    CELLS,
    NUM_CELL_INPUTS,
    NUM_OPS,
    OP_BIAS_INIT,
    OPERANDS,
    check_num_nodes,
    computed_nodes,
)


def tokens_are_valid(tokens: Any, num_nodes: int) -> bool:
    """Whether `tokens` encode an arc of the space with `num_nodes` nodes per cell."""
    try:
        MicroArc.from_tokens(tokens, num_nodes)
    except ArcError:
        return False
    return True


def sample_random_arc(num_nodes: int, rng: np.random.Generator) -> MicroArc:
    """An arc drawn uniformly from the space (every token sequence equally likely).

    Each decision is drawn uniformly and independently, which is uniform over the product space
    that `search_space_size` counts. This is the random-search baseline of the paper (3.3).

    Args:
      num_nodes: computed nodes per cell (B - 2).
      rng: the source of randomness; pass `np.random.default_rng(seed)` for reproducibility.
    """
    num_nodes = check_num_nodes(num_nodes)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    tokens = []
    for _ in CELLS:
        for k in computed_nodes(num_nodes):
            for _ in OPERANDS:  # each operand: input, op (layout.FIELDS)
                tokens += [int(rng.integers(k)), int(rng.integers(NUM_OPS))]
    return MicroArc.from_tokens(tokens, num_nodes)


def search_space_size(num_nodes: int, *, unordered_operands: bool = False) -> int:
    """Number of arcs in the space, counted by its definition (see the module docstring).

    Per cell, node k (absolute index, 2 <= k <= num_nodes + 1) chooses an (input, op) pair for
    each of its two operands from `5 * k` pairs; the cells are independent, so the count is
    `(prod_k (5 k)^2)^2 = (5^num_nodes * (num_nodes + 1)!)^4`. This is the number of distinct
    token sequences, i.e. of arcs the controller can sample.

    Args:
      num_nodes: computed nodes per cell (B - 2 in the paper).
      unordered_operands: count a node's two operands as an unordered pair (`n (n + 1) / 2`
        instead of `n^2` per node, n = 5 k), since `op_a(h_a) + op_b(h_b)` commutes.

    Returns:
      The exact count (Python int). Compare `paper_search_space_size`, which is far smaller.
    """
    num_nodes = check_num_nodes(num_nodes)
    per_cell = 1
    for k in computed_nodes(num_nodes):
        pairs = NUM_OPS * k
        per_cell *= pairs * (pairs + 1) // 2 if unordered_operands else pairs * pairs
    return per_cell ** len(CELLS)


def paper_search_space_size(num_nodes: int) -> int:
    """The paper's formula `(5 x (B-2)!)^4` with B = num_nodes + 2 (1.296e11 at B = 7).

    Kept to document the published number; it is not the size of the space (module docstring).
    """
    num_nodes = check_num_nodes(num_nodes)
    return (NUM_OPS * math.factorial(num_nodes)) ** 4


def decision_program(
    num_nodes: int, sep_conv_bias: float = OP_BIAS_INIT[0]
) -> tuple[decisions.DecisionStep, ...]:
    """The controller's program for the micro space; its tokens are `MicroArc.to_tokens()`.

    Per cell (normal, then reduction after a `ResetAnchors` so it attends only to its own nodes):
    two anchor steps stand for the cell inputs, then each computed node k makes its four
    decisions (index among the k nodes before it, op, index, op) and pushes its own anchor, so
    node k's `IndexChoice(k)` sees exactly the anchors of nodes 0..k-1. Both cells share one op
    table ("micro_op"), as in the paper, its logit bias initialised to `sep_conv_bias` for the
    two separable convolutions and 0 for the others (`OP_BIAS_INIT`, the original code's
    10.0, by default; 0 gives no op table bias at all).
    """
    num_nodes = check_num_nodes(num_nodes)
    bias = (float(sep_conv_bias),) * 2 + (0.0,) * (NUM_OPS - 2) if sep_conv_bias else None
    steps: list[decisions.DecisionStep] = []
    for c, _ in enumerate(CELLS):
        if c > 0:
            steps.append(decisions.ResetAnchors())
        steps += [decisions.AnchorStep() for _ in range(NUM_CELL_INPUTS)]
        for k in computed_nodes(num_nodes):
            for _ in OPERANDS:  # each operand: input, op (layout.FIELDS)
                steps.append(decisions.IndexChoice(k))
                steps.append(decisions.OpChoice(NUM_OPS, group="micro_op", bias_init=bias))
            steps.append(decisions.AnchorStep())
    return tuple(steps)

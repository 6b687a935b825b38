"""The rnn space as the controller and the baselines see it: decisions, sampling, counting.

`decision_program` makes the controller emit exactly `RnnArc.to_tokens()`'s order
(`enas_tf.spaces.rnn.layout`): both walk the nodes in order and, within a node, its
`layout.node_fields`. `sample_random_arc` is the random-search baseline; the two counts are
discussed in the package docstring.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from enas_tf.errors import ArcError
from enas_tf.spaces import decisions
from enas_tf.spaces.rnn.arc import RnnArc
from enas_tf.spaces.rnn.layout import (
    NUM_ACTIVATIONS,
    check_num_nodes,
    node_fields,
    node_numbers,
    num_prev_choices,
    num_tokens,
    token_position,
)


def tokens_are_valid(tokens: Any, num_nodes: int) -> bool:
    """Whether `tokens` encode an arc of `num_nodes` nodes."""
    try:
        RnnArc.from_tokens(tokens, num_nodes)
    except ArcError:
        return False
    return True


def search_space_size(num_nodes: int) -> int:
    """Number of arcs, counted by the space's definition: `4^N * (N - 1)!` (package docstring).

    Every node picks one of 4 activations and node l one of l - 1 earlier nodes, independently,
    so this is the number of distinct token sequences, i.e. of arcs the controller can sample
    (6.7 x 10^14 at N = 12). Compare `paper_search_space_size`.
    """
    num_nodes = check_num_nodes(num_nodes)
    return NUM_ACTIVATIONS**num_nodes * math.factorial(num_nodes - 1)


def paper_search_space_size(num_nodes: int) -> int:
    """The paper's formula `4^N x N!` (8.0 x 10^15 at N = 12, "approximately 10^15").

    Kept to document the published number; it is N times the size of the space.
    """
    num_nodes = check_num_nodes(num_nodes)
    return NUM_ACTIVATIONS**num_nodes * math.factorial(num_nodes)


def _num_options(node: int, field: str) -> int:
    """How many values token `field` of node `node` can take."""
    return num_prev_choices(node) if field == "prev" else NUM_ACTIVATIONS


def sample_random_arc(num_nodes: int, rng: np.random.Generator) -> RnnArc:
    """An arc drawn uniformly from the space (every token sequence equally likely).

    Each decision is drawn uniformly and independently, in token order, which is uniform over
    the product space that `search_space_size` counts: the random-search baseline of the paper
    (3.3). Drawing in token order keeps a seed's arcs the same as the controller program's
    uniform walk would give.

    Args:
      num_nodes: N.
      rng: the source of randomness; pass `np.random.default_rng(seed)` for reproducibility.
    """
    num_nodes = check_num_nodes(num_nodes)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    tokens = [0] * num_tokens(num_nodes)
    for node in node_numbers(num_nodes):
        for field in node_fields(node):
            tokens[token_position(node, field)] = int(rng.integers(_num_options(node, field)))
    return RnnArc.from_tokens(tokens, num_nodes)


def decision_program(num_nodes: int) -> tuple[decisions.DecisionStep, ...]:
    """The controller's program for the rnn space; its tokens are `RnnArc.to_tokens()`.

    Node 1 chooses its activation; node l > 1 chooses among the anchors of nodes 1..l-1
    (`IndexChoice(l - 1)`, so its token is `prev - 1`), then its activation. Every node then
    pushes its own anchor. All activation choices share one table ("activation").
    """
    num_nodes = check_num_nodes(num_nodes)
    steps: list[decisions.DecisionStep] = []
    for node in node_numbers(num_nodes):
        for field in node_fields(node):
            if field == "prev":
                steps.append(decisions.IndexChoice(num_prev_choices(node)))
            else:
                steps.append(decisions.OpChoice(NUM_ACTIVATIONS, group="activation"))
        steps.append(decisions.AnchorStep())
    return tuple(steps)

"""The controller's view of a search space: an ordered program of decision steps.

Every search space (micro cells, macro networks, RNN cells) describes the order in which the
controller LSTM makes its choices as a tuple of the small frozen steps below. The controller
unrolls that program once at trace time, so the structure is static Python while every choice
is an int32 tensor: one compiled graph samples every architecture.

Tokens: each `OpChoice` and `IndexChoice` emits one int32 token; a `SkipChoice` emits
`num_candidates` tokens (0/1 each). `AnchorStep` and `ResetAnchors` emit none. The token sequence
of a space is exactly its architecture's integer encoding (`Arc.to_tokens()`).

Outcomes: sampling also reports the probability of every outcome of every decision
(`num_outcomes` per step, in program order). A `ChoicePanel` says which decisions belong
together in a picture of the policy and what their rows and columns mean; each space lists its
panels next to its token layout, so `enas_tf.pictures.policy_pictures` draws any space without
knowing which one it is.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional, Union


@dataclasses.dataclass(frozen=True)
class OpChoice:
    """Pick one of `num_ops` operations with a softmax over `h @ W_group + b_group`.

    Attributes:
      num_ops: number of candidate operations.
      group: name of the softmax/embedding table; choices with the same group share weights
        (the micro space's normal and reduction cells share one op table, as in the paper).
      bias_init: optional initial value of the learnable logit bias, one float per op (the
        original micro code starts the two separable convolutions at 10 so early children are
        not dominated by parameter-free ops).
    """

    num_ops: int
    group: str = "op"
    bias_init: Optional[tuple[float, ...]] = None

    def __post_init__(self):
        if self.num_ops < 1:
            raise ValueError(f"OpChoice.num_ops must be >= 1, got {self.num_ops}")
        if self.bias_init is not None and len(self.bias_init) != self.num_ops:
            raise ValueError(
                f"OpChoice.bias_init has {len(self.bias_init)} values for {self.num_ops} ops"
            )


@dataclasses.dataclass(frozen=True)
class IndexChoice:
    """Pick one of the first `num_candidates` anchors by additive attention.

    The logits are `v . tanh(W1 a_j + W2 h)` over the anchors `a_j` pushed so far in the current
    block; the chosen anchor becomes the next LSTM input.

    Attributes:
      num_candidates: anchors to choose from (the first ones of the block).
      distance_prior: after temperature and tanh, subtract `distance_prior * (k - j)^2` from
        candidate j's logit, k = `num_candidates`: a prior towards recent nodes. The authors'
        language-model controller (enas_lm) uses 1/6 for the RNN cell's previous-node choice;
        0 disables it.
    """

    num_candidates: int
    distance_prior: float = 0.0

    def __post_init__(self):
        if self.num_candidates < 1:
            raise ValueError(f"IndexChoice.num_candidates must be >= 1, got {self.num_candidates}")
        if self.distance_prior < 0:
            raise ValueError(f"IndexChoice.distance_prior must be >= 0, got {self.distance_prior}")


@dataclasses.dataclass(frozen=True)
class SkipChoice:
    """Independent Bernoulli choices over the first `num_candidates` anchors (macro skips).

    Each candidate's logit is the attention score against the anchor; the next LSTM input is the
    mean of the selected anchors (zeros when none is selected).

    Attributes:
      num_candidates: the anchors (earlier layers) the decision may connect to.
      push_anchor: after choosing, push this step's LSTM output as the anchor of a new node. The
        macro space uses it so that a layer's skip step also provides that layer's anchor, as in
        the authors' controller (two LSTM steps per layer: op, then skips + anchor).
    """

    num_candidates: int
    push_anchor: bool = False


@dataclasses.dataclass(frozen=True)
class AnchorStep:
    """Run the LSTM once and push its output as the anchor of a new node.

    The next LSTM input after an anchor step is the learned "go" embedding.
    """


@dataclasses.dataclass(frozen=True)
class ResetAnchors:
    """Start a new block: forget the anchors (the reduction cell attends only to its own nodes)."""


DecisionStep = Union[OpChoice, IndexChoice, SkipChoice, AnchorStep, ResetAnchors]


def step_tokens(step: DecisionStep) -> int:
    """Number of int32 tokens one step emits (a `SkipChoice` one per candidate)."""
    if isinstance(step, (OpChoice, IndexChoice)):
        return 1
    if isinstance(step, SkipChoice):
        return step.num_candidates
    return 0


def num_tokens(program: tuple[DecisionStep, ...]) -> int:
    """Number of int32 tokens a program emits."""
    return sum(step_tokens(step) for step in program)


def num_outcomes(step: DecisionStep) -> int:
    """How many probabilities a step reports when sampled (0 for steps that decide nothing).

    An `OpChoice` reports its softmax over `num_ops`, an `IndexChoice` its softmax over
    `num_candidates`, a `SkipChoice` one P(skip = 1) per candidate.
    """
    if isinstance(step, OpChoice):
        return step.num_ops
    if isinstance(step, (IndexChoice, SkipChoice)):
        return step.num_candidates
    return 0


def uniform_entropy(program: tuple[DecisionStep, ...]) -> float:
    """The summed entropy of the uniform policy over `program`'s decisions, in nats.

    The largest value the controller's reported entropy (a sum over its decisions) can take:
    log(choices) per op or index decision, log(2) per candidate of a skip decision.
    """
    total = 0.0
    for step in program:
        if isinstance(step, (OpChoice, IndexChoice)):
            total += math.log(num_outcomes(step))
        elif isinstance(step, SkipChoice):
            total += step.num_candidates * math.log(2.0)
    return total


def decision_steps(program: tuple[DecisionStep, ...]) -> tuple[DecisionStep, ...]:
    """The steps of a program that decide something (`num_outcomes > 0`), in order."""
    return tuple(step for step in program if num_outcomes(step))


@dataclasses.dataclass(frozen=True)
class ChoicePanel:
    """Decisions of one kind shown together: one matrix row per decision, one column per option.

    Attributes:
      name: tag-safe name, e.g. "normal_inputs", "macro_skips", "rnn_activation".
      decisions: indices into `decision_steps(program)`, one per row, in row order.
      row_labels: one label per row (the decision, e.g. "node 3 b", "layer 5").
      col_labels: one label per column (the option, e.g. "c_{k-1}", "sep_conv_3x3"); a
        decision with fewer options fills the first columns.
      categorical: True if each row is one softmax (its values sum to 1); False for independent
        Bernoulli probabilities (macro skips).
      row_title: what the rows are.
      col_title: what the columns are.
    """

    name: str
    decisions: tuple[int, ...]
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    categorical: bool = True
    row_title: str = ""
    col_title: str = ""

    def __post_init__(self):
        if len(self.decisions) != len(self.row_labels):
            raise ValueError(
                f"panel {self.name}: {len(self.decisions)} decisions but "
                f"{len(self.row_labels)} row labels"
            )

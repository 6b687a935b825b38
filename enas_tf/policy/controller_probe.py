"""Can the controller learn what it is rewarded for? Probes with known rewards.

A search whose policy does not move may have a weak reward signal (shared weights at chance)
or a controller that cannot concentrate whatever the reward. This module separates the two: it
drives the search's own controller update (`enas_tf.policy.controller_training.ControllerTrainer`:
sampling, entropy bonus, baseline, `num_aggregate`, Adam, tanh constant, temperature,
`op_tanh_reduce`, op bias, skip KL) with a reward that is a known, noise-free function of the
sampled tokens, and records the learning curve:

* `target_agreement`: the fraction of tokens that agree with a hidden target architecture
  (every op, input, activation and skip bit counts once): maximum 1 at the target.
* `op_preference`: the fraction of op decisions that pick one op (e.g. micro max pooling).

`max_op_probability` is the ceiling the tanh settings put on one op's probability, whatever
the controller learns: with `c = tanh_constant / op_tanh_reduce` every op logit lies in
[-c, c], so one op gets at most e^c / (e^c + (n - 1) e^-c); an op bias pinned at the top
(the original micro code's saturated 10.0) lowers it further. Used by `tests/
controller_learning_test.py` and `bench/controller_learning.py`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional, Sequence

import numpy as np
import tensorflow as tf

from enas_tf.policy import reinforce
from enas_tf.policy.controller_training import ControllerTrainer
from enas_tf.spaces import decisions


def op_token_mask(program: Sequence[decisions.DecisionStep]) -> np.ndarray:
    """bool [T]: which tokens are `OpChoice` tokens."""
    mask: list[bool] = []
    for step in program:
        if isinstance(step, decisions.OpChoice):
            mask.append(True)
        elif isinstance(step, decisions.IndexChoice):
            mask.append(False)
        elif isinstance(step, decisions.SkipChoice):
            mask += [False] * step.num_candidates
    return np.asarray(mask, bool)


def target_agreement(target_tokens: Sequence[int]):
    """score_fn: the fraction of tokens equal to `target_tokens`."""
    target = tf.constant(np.asarray(target_tokens, np.int32))

    def score(batch, tokens):
        del batch
        return tf.reduce_mean(tf.cast(tf.equal(tokens, target), tf.float32))

    return score


def op_preference(program: Sequence[decisions.DecisionStep], op: int):
    """score_fn: the fraction of op decisions that pick op id `op`."""
    mask = tf.constant(op_token_mask(program))

    def score(batch, tokens):
        del batch
        picked = tf.boolean_mask(tf.cast(tf.equal(tokens, op), tf.float32), mask)
        return tf.reduce_mean(picked)

    return score


def max_op_probability(
    num_ops: int,
    tanh_constant: Optional[float],
    op_tanh_reduce: float = 1.0,
    pinned_at_top: int = 0,
) -> float:
    """The highest probability the policy can give one of `num_ops` ops.

    Args:
      num_ops: ops of the decision.
      tanh_constant: `c` of `c * tanh(.)` (None or 0: unbounded logits, ceiling 1).
      op_tanh_reduce: divides `tanh_constant` for op logits.
      pinned_at_top: other ops whose logit cannot leave the top of the range (a saturated
        bias: the original micro code's sep convs); they tie with the favoured op.
    """
    if not tanh_constant:
        return 1.0 if not pinned_at_top else 1.0 / (1 + pinned_at_top)
    c = tanh_constant / op_tanh_reduce
    top = math.exp(c)
    rest = num_ops - 1 - pinned_at_top
    return top / (top * (1 + pinned_at_top) + rest * math.exp(-c))


@dataclasses.dataclass
class ProbeCurve:
    """Per-update mean score (the known reward) and entropy of a probe run."""

    scores: list[float]
    entropies: list[float]

    def updates_to_reach(self, level: float) -> Optional[int]:
        """First update (1-based) whose mean score is >= level, or None."""
        for i, score in enumerate(self.scores, start=1):
            if score >= level:
                return i
        return None


def build_probe(config, score_fn, controller_factory, *, seed: int = 0) -> ControllerTrainer:
    """A `ControllerTrainer` for `config`'s controller settings with a known `score_fn`.

    Args:
      config: a run config (its `search.controller` settings are used).
      score_fn: `score(batch, tokens)`, e.g. `target_agreement(...)`.
      controller_factory: `config -> Controller` (`enas_tf.search.build_controller`).
      seed: seeds the sampling generator (the controller's weights come from Keras' seed).
    """
    ctrl = config.search.controller
    strategy = tf.distribute.get_strategy()
    controller = controller_factory(config)
    optimizer = reinforce.make_controller_optimizer(ctrl.learning_rate)
    optimizer.build(controller.trainable_variables)
    return ControllerTrainer(
        ctrl,
        strategy,
        controller=controller,
        optimizer=optimizer,
        baseline=tf.Variable(0.0, trainable=False),
        controller_step=tf.Variable(0, dtype=tf.int64, trainable=False),
        generator=tf.random.Generator.from_seed(seed),
        score_fn=score_fn,
        reward_fn=tf.identity,
        replica_seed=lambda s: s,
    )


def run_probe(trainer: ControllerTrainer, num_updates: int) -> ProbeCurve:
    """`num_updates` updates of `trainer`; the known score and entropy after each."""
    iterator = iter(tf.data.Dataset.from_tensors(tf.constant(0.0)).repeat())
    curve = ProbeCurve([], [])
    one = tf.constant(1)
    for _ in range(num_updates):
        stats = trainer.train(iterator, one)
        curve.scores.append(float(stats["score"]))
        curve.entropies.append(float(stats["entropy"]))
    return curve

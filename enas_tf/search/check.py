"""Is the search learning? The in-run check every search prints, logs and saves.

A falling child loss and a rising reward do not show that the controller has learned anything:
both also happen under a uniform policy, as the shared weights train. What does show it is a
paired comparison at the same moment, on the same data, with the same weights: score N arcs
sampled from the policy, N arcs drawn uniformly from the space (`enas_tf.policy.random_policy`)
and N arcs sampled from the controller's *initial* policy (its weights before the first update,
`enas_tf.search.steps.build_initial_policy`), each on the same validation minibatches, and
compare the means with their standard errors:

    search epoch 4 check: policy 0.412 +- 0.011 vs random 0.331 +- 0.018 vs initial policy
    0.405 +- 0.012 valid accuracy (16 arcs each, 1 minibatch of 100): ahead of random by 3.8 SE,
    level with its initial policy (+0.4 SE): the advantage is the controller's prior, not learning

Random arcs alone are not enough: a prior built into the controller (the rnn distance prior
towards recent nodes, `search.controller.op_bias_init`) makes the untrained policy differ from
uniform, so "ahead of random" can be the prior's doing. Only a policy ahead of its own starting
point has learned; ahead of both, the verdict says "learned".

"Ahead by z SE" is the difference of the means over the standard error of that difference
(sqrt(se_p^2 + se_r^2)); more than 2 is the usual bar. The search runs the check after every
controller phase (`search.check`) and derive once more on its own minibatch; both go to
TensorBoard (`search/check/*`), the log and `candidates.json`. The random arcs and the initial
policy's samples are the same in every check of a run (their seeds are the run's), so their
means track how the shared weights improve for everyone; the policy's samples are fresh each
epoch. Under `search.policy=random` there is no controller: only random arcs are scored.

This module only scores and summarises; the compiled steps come from `enas_tf.search`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional, Sequence

import numpy as np
import tensorflow as tf

_AHEAD_Z = 2.0  # "ahead" when the policy's mean beats the other by more than 2 standard errors.


@dataclasses.dataclass(frozen=True)
class ArcScores:
    """The scores of a set of arcs on the same validation data."""

    scores: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores)) if self.scores else float("nan")

    @property
    def sd(self) -> float:
        return float(np.std(self.scores, ddof=1)) if len(self.scores) > 1 else float("nan")

    @property
    def se(self) -> float:
        """Standard error of the mean (sample sd / sqrt(n))."""
        return self.sd / math.sqrt(len(self.scores)) if len(self.scores) > 1 else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {"mean": self.mean, "se": self.se, "sd": self.sd, "scores": list(self.scores)}


def _advantage_in_se(better: ArcScores, other: ArcScores, higher_is_better: bool) -> float:
    """(better - other) in the better direction, over the SE of the difference."""
    sign = 1.0 if higher_is_better else -1.0
    se = math.sqrt(better.se**2 + other.se**2)
    difference = sign * (better.mean - other.mean)
    if not se > 0:  # identical scores (e.g. both at chance): no evidence either way
        return 0.0 if difference == 0 else math.copysign(math.inf, difference)
    return difference / se


def _relation(z: float, other: str) -> str:
    """'ahead of random by 3.8 SE', 'BEHIND random by 2.5 SE' or 'level with random (+0.4 SE)'."""
    if z > _AHEAD_Z:
        return f"ahead of {other} by {z:.1f} SE"
    if z < -_AHEAD_Z:
        return f"BEHIND {other} by {-z:.1f} SE"
    return f"level with {other} ({z:+.1f} SE)"


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """Policy samples against uniform samples and the initial policy's samples, scored alike.

    Attributes:
      metric: what was scored ("accuracy" or "perplexity").
      higher_is_better: whether a larger score is better (False for perplexity).
      data: a readable description of the validation data the arcs were scored on.
      random: the uniformly sampled arcs' scores.
      policy: the policy samples' scores; None under `search.policy=random` (nothing to compare).
      choice_probs: mean over the policy samples of `PolicyOutput.choice_probs` (the policy's
        marginal choice probabilities; None without policy samples).
      chance: the score of a model that guesses uniformly (1 / classes for accuracy, the
        vocabulary size for perplexity), so a reader can see how far the children are from it;
        None when unknown.
      initial: the initial policy's samples' scores (the controller before any update); None
        without a controller, or when a resumed run's checkpoint predates its snapshot.
      arcs: the tokens of the scored policy samples (of the uniform arcs without a policy),
        in the order of their scores, for the Text dashboard's table of the check's arcs.
    """

    metric: str
    higher_is_better: bool
    data: str
    random: ArcScores
    policy: Optional[ArcScores] = None
    choice_probs: Optional[np.ndarray] = None
    chance: Optional[float] = None
    initial: Optional[ArcScores] = None
    arcs: tuple[tuple[int, ...], ...] = ()

    @property
    def advantage_in_se(self) -> float:
        """(policy - random) in the better direction, over the SE of the difference."""
        if self.policy is None:
            return float("nan")
        return _advantage_in_se(self.policy, self.random, self.higher_is_better)

    @property
    def advantage_over_initial_in_se(self) -> float:
        """(policy - initial policy) in the better direction, over the SE of the difference."""
        if self.policy is None or self.initial is None:
            return float("nan")
        return _advantage_in_se(self.policy, self.initial, self.higher_is_better)

    @property
    def policy_ahead(self) -> bool:
        """Whether the policy beats random by more than two standard errors."""
        return self.policy is not None and self.advantage_in_se > _AHEAD_Z

    @property
    def ahead_of_initial(self) -> bool:
        """Whether the policy beats its initial policy by more than two standard errors."""
        return self.initial is not None and self.advantage_over_initial_in_se > _AHEAD_Z

    def verdict(self) -> str:
        """Where the policy stands against random and against its start, and what that means.

        Ahead of random but not of its initial policy is the controller's prior, not learning;
        ahead of both is learning.
        """
        if self.policy is None:
            return "policy=random: no controller to compare"
        z = self.advantage_in_se
        against_random = _relation(z, "random")
        if self.initial is None:  # a run resumed from a checkpoint without the snapshot
            unknown = " (initial policy unknown: learning or prior)" if self.policy_ahead else ""
            return against_random + unknown
        z_initial = self.advantage_over_initial_in_se
        if self.policy_ahead and self.ahead_of_initial:
            return f"{against_random} and of its initial policy by {z_initial:.1f} SE: learned"
        if self.ahead_of_initial:
            meaning = f"learning, {'still behind' if z < -_AHEAD_Z else 'not yet ahead of'} random"
        elif self.policy_ahead:
            meaning = "the advantage is the controller's prior, not learning"
        else:
            meaning = "no sign of learning"
        return f"{against_random}, {_relation(z_initial, 'its initial policy')}: {meaning}"

    def summary(self) -> str:
        """One line: 'policy 0.41 +- 0.01 vs random 0.33 +- 0.02 vs initial policy ...: ...'."""
        digits = 3 if self.higher_is_better else 1

        def shown(scores: ArcScores) -> str:
            return f"{scores.mean:.{digits}f} +- {scores.se:.{digits}f}"

        n = len(self.random.scores)
        if self.policy is None:
            head = f"random arcs {shown(self.random)}"
            return f"{head} valid {self.metric} ({n} arcs, {self.data}): {self.verdict()}"
        head = f"policy {shown(self.policy)} vs random {shown(self.random)}"
        if self.initial is not None:
            head += f" vs initial policy {shown(self.initial)}"
        return f"{head} valid {self.metric} ({n} arcs each, {self.data}): {self.verdict()}"

    def children_vs_chance(self) -> str:
        """'sampled children's valid accuracy 0.412 = 4.1x chance (0.100)', or '' if unknown."""
        if self.chance is None or not self.chance > 0:
            return ""
        scores = self.policy if self.policy is not None else self.random
        who = "sampled children's" if self.policy is not None else "random arcs'"
        ratio = scores.mean / self.chance if self.higher_is_better else self.chance / scores.mean
        digits = 3 if self.higher_is_better else 1
        return (
            f"{who} valid {self.metric} {scores.mean:.{digits}f} = {ratio:.1f}x "
            f"{'better than ' if not self.higher_is_better else ''}chance "
            f"({self.chance:.{digits}f})"
        )

    def to_json(self) -> dict[str, Any]:
        with_initial = self.policy is not None and self.initial is not None
        return {
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "scored_on": self.data,
            "policy": None if self.policy is None else self.policy.to_json(),
            "random": self.random.to_json(),
            "initial": self.initial.to_json() if with_initial else None,
            "policy_minus_random_in_se": None if self.policy is None else self.advantage_in_se,
            "policy_minus_initial_in_se": (
                self.advantage_over_initial_in_se if with_initial else None
            ),
            "policy_ahead": self.policy_ahead,
            "policy_ahead_of_initial": self.ahead_of_initial,
            "chance": self.chance,
            "summary": self.summary(),
            "children_vs_chance": self.children_vs_chance(),
        }


def score_arcs(evaluate_arc, batches: Sequence[Any], tokens_list) -> ArcScores:
    """Mean score of every arc over the same `batches` (`evaluate_arc(batch, tokens)`)."""
    scores = []
    for tokens in tokens_list:
        per_batch = [float(evaluate_arc(batch, tokens)) for batch in batches]
        scores.append(float(np.mean(per_batch)))
    return ArcScores(tuple(scores))


def draw_samples(sampler, seed: int, num_arcs: int) -> list:
    """`num_arcs` outputs of `sampler(seed)`, the seeds drawn from a generator seeded `seed`.

    A fixed `seed` gives the same arcs in every check of a run (for the uniform sampler and
    the never-trained initial policy).
    """
    generator = tf.random.Generator.from_seed(seed)
    return [sampler(generator.make_seeds(1)[:, 0]) for _ in range(num_arcs)]


def policy_vs_random(
    steps,
    batches: Sequence[Any],
    *,
    num_arcs: int,
    policy_seed: int,
    random_seed: int,
    with_policy: bool,
    data: str,
    initial_seed: Optional[int] = None,
) -> CheckResult:
    """Scores `num_arcs` policy, uniform and initial-policy arcs on the same `batches`.

    Args:
      steps: `enas_tf.search.steps.SearchSteps` (its `sample_policy`, `sample_uniform`,
        `sample_initial` and `evaluate_arc` are used).
      batches: validation minibatches (distributed values), the same for every arc.
      num_arcs: arcs of each kind.
      policy_seed: seed of the policy samples (vary it per check).
      random_seed: seed of the uniform arcs (keep it fixed within a run).
      with_policy: False under `search.policy=random`: only uniform arcs are scored.
      data: description of `batches` for the log and JSON.
      initial_seed: seed of the initial policy's samples (keep it fixed within a run); None,
        or `steps.sample_initial` None (no snapshot in this run), skips that comparison.
    """
    random_tokens = draw_samples(steps.sample_uniform, random_seed, num_arcs)
    random = score_arcs(steps.evaluate_arc, batches, random_tokens)
    task = steps.task
    if not with_policy:
        return CheckResult(
            task.metric,
            task.higher_is_better,
            data,
            random,
            chance=task.chance_score,
            arcs=tuple(tuple(int(t) for t in tokens.numpy()) for tokens in random_tokens),
        )
    outputs = draw_samples(steps.sample_policy, policy_seed, num_arcs)
    policy = score_arcs(steps.evaluate_arc, batches, [out.tokens for out in outputs])
    probs = np.mean([out.choice_probs.numpy() for out in outputs], axis=0)
    initial = None
    if initial_seed is not None and steps.sample_initial is not None:
        initial_outputs = draw_samples(steps.sample_initial, initial_seed, num_arcs)
        initial = score_arcs(steps.evaluate_arc, batches, [out.tokens for out in initial_outputs])
    return CheckResult(
        task.metric,
        task.higher_is_better,
        data,
        random,
        policy=policy,
        choice_probs=probs,
        chance=task.chance_score,
        initial=initial,
        arcs=tuple(tuple(int(t) for t in out.tokens.numpy()) for out in outputs),
    )

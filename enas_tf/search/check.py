"""Is the search beating random? The in-run check every search prints, logs and saves.

A falling child loss and a rising reward do not show that the controller has learned anything:
both also happen under a uniform policy, as the shared weights train. What does show it is a
paired comparison at the same moment, on the same data, with the same weights: score N arcs
sampled from the policy and N arcs drawn uniformly from the space (`enas_tf.policy.random_policy`),
each on the same validation minibatches, and compare the two means with their standard errors:

    search epoch 4 check: policy 0.412 +- 0.011 vs random 0.331 +- 0.018 valid accuracy
    (16 arcs each, 1 minibatch of 100): policy ahead by 3.8 SE

"Ahead by z SE" is the difference of the means over the standard error of that difference
(sqrt(se_p^2 + se_r^2)); more than 2 is the usual bar. The search runs the check after every
controller phase (`search.check`) and derive once more on its own minibatch; both go to
TensorBoard (`check/*`), the log and `candidates.json`. The random arcs are the same in every
check of a run (their seed is the run's), so their mean tracks how the shared weights improve
for everyone; the policy's samples are fresh each epoch.

This module only scores and summarises; the compiled steps come from `enas_tf.search`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional, Sequence

import numpy as np
import tensorflow as tf

_AHEAD_Z = 2.0  # "ahead" when the policy's mean beats random by more than 2 standard errors.


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


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """Policy samples against uniform samples, scored alike.

    Attributes:
      metric: what was scored ("accuracy" or "perplexity").
      higher_is_better: whether a larger score is better (False for perplexity).
      data: a readable description of the validation data the arcs were scored on.
      random: the uniformly sampled arcs' scores.
      policy: the policy samples' scores; None under `search.policy=random` (nothing to compare).
      choice_probs: mean over the policy samples of `PolicyOutput.choice_probs` (the policy's
        marginal choice probabilities; None without policy samples).
      example_tokens: the tokens of the first policy sample (or random arc), for display.
      chance: the score of a model that guesses uniformly (1 / classes for accuracy, the
        vocabulary size for perplexity), so a reader can see how far the children are from it;
        None when unknown.
    """

    metric: str
    higher_is_better: bool
    data: str
    random: ArcScores
    policy: Optional[ArcScores] = None
    choice_probs: Optional[np.ndarray] = None
    example_tokens: tuple[int, ...] = ()
    chance: Optional[float] = None

    @property
    def advantage_in_se(self) -> float:
        """(policy - random) in the better direction, over the SE of the difference."""
        if self.policy is None:
            return float("nan")
        sign = 1.0 if self.higher_is_better else -1.0
        se = math.sqrt(self.policy.se**2 + self.random.se**2)
        difference = sign * (self.policy.mean - self.random.mean)
        if not se > 0:  # identical scores (e.g. both at chance): no evidence either way
            return 0.0 if difference == 0 else math.copysign(math.inf, difference)
        return difference / se

    @property
    def policy_ahead(self) -> bool:
        """Whether the policy beats random by more than two standard errors."""
        return self.policy is not None and self.advantage_in_se > _AHEAD_Z

    def verdict(self) -> str:
        if self.policy is None:
            return "policy=random: no controller to compare"
        z = self.advantage_in_se
        if self.policy_ahead:
            return f"policy ahead by {z:.1f} SE"
        if z < -_AHEAD_Z:
            return f"policy BEHIND random by {-z:.1f} SE"
        return f"policy not distinguishable from random ({z:+.1f} SE)"

    def summary(self) -> str:
        """One line: 'policy 0.41 +- 0.01 vs random 0.33 +- 0.02 valid accuracy (...): ...'."""
        digits = 3 if self.higher_is_better else 1
        random = f"{self.random.mean:.{digits}f} +- {self.random.se:.{digits}f}"
        n = len(self.random.scores)
        if self.policy is None:
            head = f"random arcs {random}"
            return f"{head} valid {self.metric} ({n} arcs, {self.data}): {self.verdict()}"
        else:
            policy = f"{self.policy.mean:.{digits}f} +- {self.policy.se:.{digits}f}"
            head = f"policy {policy} vs random {random}"
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

    def scalars(self) -> dict[str, float]:
        """TensorBoard scalars under `check/`."""
        values = {"random_mean": self.random.mean, "random_se": self.random.se}
        if self.policy is not None:
            values.update(
                policy_mean=self.policy.mean,
                policy_se=self.policy.se,
                policy_minus_random_in_se=self.advantage_in_se,
            )
        return values

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "scored_on": self.data,
            "policy": None if self.policy is None else self.policy.to_json(),
            "random": self.random.to_json(),
            "policy_minus_random_in_se": None if self.policy is None else self.advantage_in_se,
            "policy_ahead": self.policy_ahead,
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


def policy_vs_random(
    steps,
    batches: Sequence[Any],
    *,
    num_arcs: int,
    policy_seed: int,
    random_seed: int,
    with_policy: bool,
    data: str,
) -> CheckResult:
    """Scores `num_arcs` policy samples and `num_arcs` uniform arcs on the same `batches`.

    Args:
      steps: `enas_tf.search.steps.SearchSteps` (its `sample_policy`, `sample_uniform` and
        `evaluate_arc` are used).
      batches: validation minibatches (distributed values), the same for every arc.
      num_arcs: arcs of each kind.
      policy_seed: seed of the policy samples (vary it per check).
      random_seed: seed of the uniform arcs (keep it fixed within a run).
      with_policy: False under `search.policy=random`: only uniform arcs are scored.
      data: description of `batches` for the log and JSON.
    """
    uniform_gen = tf.random.Generator.from_seed(random_seed)
    random_tokens = [steps.sample_uniform(uniform_gen.make_seeds(1)[:, 0]) for _ in range(num_arcs)]
    random = score_arcs(steps.evaluate_arc, batches, random_tokens)
    task = steps.task
    example = tuple(int(t) for t in random_tokens[0].numpy()) if random_tokens else ()
    if not with_policy:
        return CheckResult(
            task.metric,
            task.higher_is_better,
            data,
            random,
            example_tokens=example,
            chance=task.chance_score,
        )
    policy_gen = tf.random.Generator.from_seed(policy_seed)
    outputs = [steps.sample_policy(policy_gen.make_seeds(1)[:, 0]) for _ in range(num_arcs)]
    policy = score_arcs(steps.evaluate_arc, batches, [out.tokens for out in outputs])
    probs = np.mean([out.choice_probs.numpy() for out in outputs], axis=0)
    return CheckResult(
        task.metric,
        task.higher_is_better,
        data,
        random,
        policy=policy,
        choice_probs=probs,
        example_tokens=tuple(int(t) for t in outputs[0].tokens.numpy()),
        chance=task.chance_score,
    )

"""REINFORCE updates of the controller from any score of its sampled architectures.

The search (`enas_tf.search`) scores a sampled arc with the shared weights on a validation
minibatch; the controller-learning tests and `bench/controller_learning.py` score it with a
known function of its tokens, so that whether the policy can learn what it is rewarded for is
checked on exactly the update the search runs: the same sampling, reward shaping (entropy
bonus), baseline, advantage, skip KL penalty, `num_aggregate` averaging and optimizer.

One update (as in the authors' code): for each of `num_aggregate` groups, every replica samples
an arc and scores it; the baseline moves once per group towards the mean reward of the group's
arcs (all-gathered, so every replica computes the same value); each arc's advantage is its own
reward minus that baseline; the policy gradients of all arcs are averaged and applied once.
With one replica this is the single-device update of the paper.
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

from enas_tf.policy import reinforce
from enas_tf.policy.controller import Controller

# score_fn(batch, tokens) -> float32 scalar (accuracy, perplexity, or a known test reward).
ScoreFn = Callable[[object, tf.Tensor], tf.Tensor]
# reward_fn(score) -> float32 scalar reward before the entropy bonus (higher is better).
RewardFn = Callable[[tf.Tensor], tf.Tensor]


class ControllerTrainer:
    """The compiled controller phase: `train(iterator, num_steps)` REINFORCE updates.

    Attributes:
      controller: the policy being trained.
      optimizer: its optimizer (`reinforce.make_controller_optimizer`).
      baseline: float32 scalar variable, the moving-average baseline.
      controller_step: int64 variable counting updates.
    """

    def __init__(
        self,
        ctrl_config,
        strategy,
        *,
        controller: Controller,
        optimizer,
        baseline: tf.Variable,
        controller_step: tf.Variable,
        generator: tf.random.Generator,
        score_fn: ScoreFn,
        reward_fn: RewardFn,
        replica_seed: Callable[[tf.Tensor], tf.Tensor],
        score_name: str = "score",
        jit_compile: bool = False,
    ):
        """Wraps the update in `tf.function`s; builds nothing (the variables exist already).

        Args:
          ctrl_config: `config.search.controller` (entropy_weight, baseline_decay,
            num_aggregate, skip_weight, skip_target are read).
          strategy: the `tf.distribute` strategy the variables were created under.
          controller: the policy.
          optimizer: built for `controller.trainable_variables`.
          baseline: the baseline variable.
          controller_step: counter incremented once per update.
          generator: source of the sampling seeds (checkpointed by the caller).
          score_fn: scores one arc on one batch of `iterator` (runs per replica).
          reward_fn: maps a score to a reward (e.g. `80 / perplexity`).
          replica_seed: maps the step's seed to this replica's sampling seed.
          score_name: the key of the mean score in `train`'s result (e.g. "accuracy").
          jit_compile: XLA-compile the per-replica step.
        """
        self.ctrl = ctrl_config
        self.strategy = strategy
        self.controller = controller
        self.optimizer = optimizer
        self.baseline = baseline
        self.controller_step = controller_step
        self.generator = generator
        self.score_fn, self.reward_fn, self.replica_seed = score_fn, reward_fn, replica_seed
        self.score_name = score_name
        compile_step = tf.function(jit_compile=jit_compile, reduce_retracing=True)
        self.replica_step = compile_step(self._replica_step)
        self.train = tf.function(self._train)

    def _replica_step(self, seed, batch):
        """One sampled arc per replica: its reward, its score and its policy gradient."""
        ctrl = self.ctrl
        variables = self.controller.trainable_variables
        context = tf.distribute.get_replica_context()
        with tf.GradientTape() as tape:
            policy = self.controller.sample_with_details(self.replica_seed(seed))
            with tape.stop_recording():
                score = tf.cast(self.score_fn(batch, policy.tokens), tf.float32)
            reward = reinforce.shaped_reward(
                self.reward_fn(score), policy.entropy, ctrl.entropy_weight
            )
            # The original code moves the baseline towards the reward before the advantage.
            rewards = context.all_gather(tf.reshape(reward, [1]), axis=0)
            baseline = reinforce.update_baseline(
                self.baseline, tf.reduce_mean(rewards), ctrl.baseline_decay
            )
            loss = reinforce.reinforce_loss(policy.log_prob, reward, baseline)
            if ctrl.skip_weight and policy.skip_probs.shape[0]:  # macro space only
                loss += ctrl.skip_weight * reinforce.skip_kl_penalty(
                    policy.skip_probs, ctrl.skip_target
                )
        grads = tape.gradient(loss, variables)
        return grads, baseline, tf.stack([reward, score, policy.entropy, loss])

    def _train(self, iterator, num_steps):
        """`num_steps` updates, each averaging `num_aggregate` x replicas arcs.

        Returns:
          A dict of float32 scalars: mean reward, score, entropy and loss over the updates'
          arcs, and the baseline after the last update.
        """
        strategy = self.strategy
        num_aggregate = self.ctrl.num_aggregate
        variables = self.controller.trainable_variables
        totals = tf.zeros([4], tf.float32)  # reward, score, entropy, loss
        for _ in tf.range(num_steps):
            # Loop state is explicit tensors created before the loop (autograph loop variables).
            summed = [tf.zeros_like(v) for v in variables]
            for _ in tf.range(num_aggregate):
                batch = next(iterator)
                seed = self.generator.make_seeds(1)[:, 0]
                grads, baseline, values = strategy.run(self.replica_step, args=(seed, batch))
                # Every replica computed the same baseline; MEAN just makes it one value.
                self.baseline.assign(strategy.reduce("MEAN", baseline, axis=None))
                grads = [strategy.reduce("MEAN", g, axis=None) for g in grads]
                summed = [s + g for s, g in zip(summed, grads, strict=True)]
                totals = totals + strategy.reduce("MEAN", values, axis=None)
            self.optimizer.apply_gradients(
                zip([s / num_aggregate for s in summed], variables, strict=True)
            )
            self.controller_step.assign_add(1)
        means = totals / tf.cast(num_steps * num_aggregate, tf.float32)
        return {
            "reward": means[0],
            self.score_name: means[1],
            "entropy": means[2],
            "loss": means[3],
            "baseline": tf.identity(self.baseline),
        }

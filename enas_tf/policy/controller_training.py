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

Two variance reductions, each one setting away (`search.controller`): `reward_batch=per_update`
scores every arc of an update on the same validation minibatch (so how hard that minibatch is
moves all of the update's rewards alike), and `baseline=group` gives each arc the mean reward of
the *other* arcs of its update as its baseline (leave-one-out), so the advantage compares arcs
scored at the same moment with the same weights instead of against a moving average that lags
the shared weights' improvement. The update is linear in the per-arc gradients
`g_i = grad(-log pi(m_i))`, so it needs only two running sums, `sum(r_i g_i)` and `sum(g_i)`:
`sum_i (r_i - (S - r_i) / (n - 1)) g_i = n / (n - 1) sum(r_i g_i) - S / (n - 1) sum(g_i)`.
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
        # No autograph in the step (no Python control flow on tensors; as search/steps.py).
        compile_step = tf.function(jit_compile=jit_compile, reduce_retracing=True, autograph=False)
        self.replica_step = compile_step(self._replica_step)
        self.train = tf.function(self._train)

    def _replica_step(self, seed, batch):
        """One sampled arc per replica: its reward, its score and its policy gradient.

        Returns (gradients, baseline, values). With the EMA baseline the gradients are those of
        the whole REINFORCE loss and values are [reward, score, entropy, loss]. With the group
        baseline they are (r * grad(-log pi), grad(-log pi), the skip penalty's gradient): the
        caller weighs them once the update's rewards are known; values are [reward, score,
        entropy, penalty, r * -log pi, -log pi] and `baseline` is unused.
        """
        ctrl = self.ctrl
        variables = self.controller.trainable_variables
        context = tf.distribute.get_replica_context()
        group = ctrl.get("baseline", "ema") == "group"
        with tf.GradientTape(persistent=group) as tape:
            policy = self.controller.sample_with_details(self.replica_seed(seed))
            with tape.stop_recording():
                score = tf.cast(self.score_fn(batch, policy.tokens), tf.float32)
            reward = reinforce.shaped_reward(
                self.reward_fn(score), policy.entropy, ctrl.entropy_weight
            )
            if group:
                baseline = tf.identity(self.baseline)
                loss = -tf.cast(policy.log_prob, tf.float32)
            else:
                # The original code moves the baseline towards the reward before the advantage.
                rewards = context.all_gather(tf.reshape(reward, [1]), axis=0)
                baseline = reinforce.update_baseline(
                    self.baseline, tf.reduce_mean(rewards), ctrl.baseline_decay
                )
                loss = reinforce.reinforce_loss(policy.log_prob, reward, baseline)
            penalty = tf.constant(0.0)
            if ctrl.skip_weight and policy.skip_probs.shape[0]:  # macro space only
                penalty = ctrl.skip_weight * reinforce.skip_kl_penalty(
                    policy.skip_probs, ctrl.skip_target
                )
            total = loss + penalty  # recorded on the tape (the EMA path's one gradient)
        if group:  # two gradients: the log-probability's and the penalty's
            grads = _dense(tape.gradient(loss, variables), variables)
            penalty_grads = [tf.zeros_like(v) for v in variables]
            if ctrl.skip_weight and policy.skip_probs.shape[0]:
                penalty_grads = _dense(tape.gradient(penalty, variables), variables)
            del tape
            weighted = [g * tf.cast(tf.stop_gradient(reward), g.dtype) for g in grads]
            neg_log_prob = tf.stop_gradient(loss)
            return (
                (weighted, grads, penalty_grads),
                baseline,
                tf.stack(
                    [reward, score, policy.entropy, penalty, reward * neg_log_prob, neg_log_prob]
                ),
            )
        grads = tape.gradient(total, variables)
        return grads, baseline, tf.stack([reward, score, policy.entropy, total])

    def _train(self, iterator, num_steps):
        """`num_steps` updates, each averaging `num_aggregate` x replicas arcs.

        Returns:
          A dict of float32 scalars: mean reward, score, entropy and loss over the updates'
          arcs, and the baseline after the last update.
        """
        if self.ctrl.get("baseline", "ema") == "group":
            return self._train_group(iterator, num_steps)
        strategy = self.strategy
        num_aggregate = self.ctrl.num_aggregate
        per_update = self.ctrl.get("reward_batch", "per_arc") == "per_update"
        variables = self.controller.trainable_variables
        totals = tf.zeros([4], tf.float32)  # reward, score, entropy, loss
        for _ in tf.range(num_steps):
            # Loop state is explicit tensors created before the loop (autograph loop variables).
            summed = [tf.zeros_like(v) for v in variables]
            update_batch = next(iterator) if per_update else None
            for _ in tf.range(num_aggregate):
                batch = update_batch if per_update else next(iterator)
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
        return self._summary(totals / tf.cast(num_steps * num_aggregate, tf.float32))

    def _summary(self, means):
        """The phase's result from the mean [reward, score, entropy, loss] over its arcs."""
        return {
            "reward": means[0],
            self.score_name: means[1],
            "entropy": means[2],
            "loss": means[3],
            "baseline": tf.identity(self.baseline),
        }

    def _train_group(self, iterator, num_steps):
        """`_train` with the leave-one-out group baseline (module docstring).

        The n = num_aggregate x replicas arcs of an update are sampled and scored first, their
        `sum(r_i g_i)` and `sum(g_i)` accumulated; the update is then applied once. The
        baseline variable records each update's mean reward (for logs and TensorBoard).
        """
        strategy = self.strategy
        num_aggregate = self.ctrl.num_aggregate
        per_update = self.ctrl.get("reward_batch", "per_arc") == "per_update"
        n = float(num_aggregate * strategy.num_replicas_in_sync)
        variables = self.controller.trainable_variables
        totals = tf.zeros([3], tf.float32)  # reward, score, entropy
        loss_total = tf.constant(0.0)  # the REINFORCE surrogate of each update, summed
        for _ in tf.range(num_steps):
            # [reward, score, entropy, penalty, r_i * -log pi_i, -log pi_i] summed over arcs.
            sums = tf.zeros([6], tf.float32)
            weighted = [tf.zeros_like(v) for v in variables]  # sum over arcs of r_i g_i
            plain = [tf.zeros_like(v) for v in variables]  # sum of g_i
            penalties = [tf.zeros_like(v) for v in variables]
            update_batch = next(iterator) if per_update else None
            for _ in tf.range(num_aggregate):
                batch = update_batch if per_update else next(iterator)
                seed = self.generator.make_seeds(1)[:, 0]
                (r_g, grads, penalty_grads), _, values = strategy.run(
                    self.replica_step, args=(seed, batch)
                )
                # Sums over replicas (each replica's arc counts once).
                weighted = [
                    w + strategy.reduce("SUM", g, axis=None)
                    for w, g in zip(weighted, r_g, strict=True)
                ]
                plain = [
                    p + strategy.reduce("SUM", g, axis=None)
                    for p, g in zip(plain, grads, strict=True)
                ]
                penalties = [
                    p + strategy.reduce("SUM", g, axis=None)
                    for p, g in zip(penalties, penalty_grads, strict=True)
                ]
                sums += strategy.reduce("SUM", values, axis=None)
                totals = totals + strategy.reduce("MEAN", values, axis=None)[:3]
            reward_sum = sums[0]
            # (1/n) sum_i (r_i - b_i) g_i with b_i the mean reward of the other n - 1 arcs.
            scale_weighted, scale_plain = 1.0 / (n - 1.0), reward_sum / (n * (n - 1.0))
            # The same combination of the summed -log pi gives the update's mean surrogate loss.
            loss_total += scale_weighted * sums[4] - scale_plain * sums[5] + sums[3] / n
            update = [
                scale_weighted * w - scale_plain * p + q / n
                for w, p, q in zip(weighted, plain, penalties, strict=True)
            ]
            self.optimizer.apply_gradients(zip(update, variables, strict=True))
            self.baseline.assign(reward_sum / n)
            self.controller_step.assign_add(1)
        means = totals / tf.cast(num_steps * num_aggregate, tf.float32)
        loss = loss_total / tf.cast(num_steps, tf.float32)
        return self._summary(tf.concat([means, [loss]], axis=0))


def _dense(grads, variables):
    """Gradients with None (a variable the loss does not reach) replaced by zeros."""
    return [tf.zeros_like(v) if g is None else g for g, v in zip(grads, variables, strict=True)]

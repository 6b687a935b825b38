"""What the search trains and the compiled steps that train it.

`SearchState` holds every variable of a search (both models, both optimizers, baseline,
counters, random generator, and a snapshot of the controller's starting weights), created
before the first step inside the strategy's scope (docs/DESIGN.md rule 2). `SearchSteps` holds
the per-replica step functions and their `tf.function` loops (Orbit style, docs/DESIGN.md rule
7): child updates, controller updates, and the shared-weight evaluations that derive and the
in-run check use. `enas_tf.search` runs them in epochs, logs and checkpoints.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import tensorflow as tf

from enas_tf import training
from enas_tf.policy import reinforce
from enas_tf.policy.controller import Controller
from enas_tf.policy.controller_training import ControllerTrainer
from enas_tf.policy.random_policy import UniformPolicy
from enas_tf.runtime import checkpoints
from enas_tf.spaces import decisions, registry


def build_controller(config, name: str = "controller") -> Controller:
    """The controller of the configured search space with the config's settings."""
    ctrl = config.search.controller
    return Controller(
        registry.of(config).decision_program(),
        lstm_size=ctrl.lstm_size,
        tanh_constant=ctrl.tanh_constant or None,
        op_tanh_reduce=ctrl.op_tanh_reduce,
        temperature=ctrl.temperature or None,
        name=name,
    )


def build_initial_policy(config, controller: Controller) -> Controller:
    """A frozen copy of `controller` as it is now: the policy before any update.

    A controller's priors (the rnn distance prior, `search.controller.op_bias_init`) make the
    untrained policy differ from uniform, so beating random arcs does not by itself show that
    the controller learned; the in-run check also compares with this copy
    (`enas_tf.search.check`). Call it inside the strategy scope, before the first controller
    update; it is never trained and is saved with the search so a resumed run compares with
    the same starting point.
    """
    initial = build_controller(config, name="initial_controller")
    for kept, live in zip(initial.weights, controller.weights, strict=True):
        kept.assign(live.value)
    initial.trainable = False
    return initial


@dataclasses.dataclass
class SearchState:
    """Everything the search trains or counts; all of it is checkpointed."""

    supernet: object  # MicroSupernet, MacroSupernet or RnnSupernet
    controller: Controller
    child_optimizer: object
    controller_optimizer: object
    baseline: tf.Variable
    child_step: tf.Variable
    controller_step: tf.Variable
    epoch: tf.Variable
    phase: tf.Variable
    generator: tf.random.Generator
    # The controller's starting weights (`build_initial_policy`); None under policy=random,
    # or when a resumed checkpoint was written before they were kept (then unknown).
    initial_controller: Optional[Controller] = None

    def checkpoint(self) -> checkpoints.KeyedCheckpoint:
        # Weights keyed by variable path (Keras 3 layers do not expose list attributes to
        # tf.train.Checkpoint); the architecture is fixed by config.json. The initial policy
        # is optional so that checkpoints written before it was kept still restore.
        initial = self.initial_controller
        return checkpoints.KeyedCheckpoint(
            {
                "supernet": self.supernet.weights,
                "controller": self.controller.weights,
                "child_optimizer": self.child_optimizer.variables,
                "controller_optimizer": self.controller_optimizer.variables,
            },
            optional={} if initial is None else {"initial_controller": initial.weights},
            random_states=checkpoints.random_states_of(self.supernet, self.controller),
            baseline=self.baseline,
            child_step=self.child_step,
            controller_step=self.controller_step,
            epoch=self.epoch,
            phase=self.phase,
            generator=self.generator,
        )


def build_search_state(config, strategy, task) -> SearchState:
    """Creates every variable of the search inside `strategy.scope()` (docs/DESIGN.md rule 2).

    Args:
      config: the run config.
      strategy: the `tf.distribute` strategy.
      task: `ImageTask` or `LmTask`: builds the supernet and the child optimizer.
    """
    with strategy.scope():
        supernet = task.build_supernet()
        controller = build_controller(config)
        child_optimizer = task.make_child_optimizer()
        child_optimizer.build(supernet.trainable_variables)
        controller_optimizer = reinforce.make_controller_optimizer(
            config.search.controller.learning_rate
        )
        controller_optimizer.build(controller.trainable_variables)
        task.create_child_state(strategy)
        with_controller = config.search.policy != "random"
        initial = build_initial_policy(config, controller) if with_controller else None
        counter = lambda name: tf.Variable(0, dtype=tf.int64, trainable=False, name=name)  # noqa: E731
        return SearchState(
            supernet=supernet,
            controller=controller,
            child_optimizer=child_optimizer,
            controller_optimizer=controller_optimizer,
            baseline=tf.Variable(0.0, trainable=False, name="baseline"),
            child_step=counter("child_step"),
            controller_step=counter("controller_step"),
            epoch=counter("epoch"),
            phase=counter("phase"),
            generator=tf.random.Generator.from_seed(config.seed),
            initial_controller=initial,
        )


class SearchSteps:
    """The compiled functions of the search; each is traced once for every architecture.

    Task-specific math (loss, score, reward) comes from `task` (`ImageTask` or `LmTask`).
    """

    def __init__(self, config, strategy, state: SearchState, task, jit_compile: bool):
        self.config, self.strategy, self.state, self.task = config, strategy, state, task
        self.global_batch = config.search.batch_size
        # The steps have no Python control flow on tensors (`tf.cond` where they branch), so
        # autograph is off for them: converting every function they call cost each process ~1 s
        # of its start-up (issue #27). Only the loops (`tf.range`) keep it.
        compile_step = tf.function(jit_compile=jit_compile, reduce_retracing=True, autograph=False)
        self.uniform = UniformPolicy(state.controller.program)
        self.child_replica_step = compile_step(self._child_replica_step)
        self.train_child = tf.function(self._train_child)
        # One traced forward for the controller's rewards and for the checks' and derive's
        # evaluations: both call this function (per replica) from their own traced functions,
        # which then share its graph instead of tracing the supernet's forward again. Under a
        # multi-device strategy it is traced once per replica device (tf.function retraces for
        # each device there), so every replica reads its own copy of the weights.
        self.replica_score = tf.function(self._replica_score, autograph=False)
        self.controller_trainer = ControllerTrainer(
            config.search.controller,
            strategy,
            controller=state.controller,
            optimizer=state.controller_optimizer,
            baseline=state.baseline,
            controller_step=state.controller_step,
            generator=state.generator,
            score_fn=self.replica_score,
            reward_fn=task.reward,
            replica_seed=self.replica_seed,
            score_name=task.metric,
            jit_compile=jit_compile,
        )
        self.train_controller = self.controller_trainer.train
        self.evaluate_arc = tf.function(self._evaluate_arc, autograph=False)
        self.evaluate_arc_loss = tf.function(  # traced only if used
            self._evaluate_arc_loss, autograph=False
        )
        # Sampling outside the training loops (checks, derive): one trace each.
        self.sample_policy = tf.function(state.controller.sample_with_details)
        self.sample_uniform = tf.function(self.uniform.sample)
        initial = state.initial_controller
        self.sample_initial = None if initial is None else tf.function(initial.sample_with_details)
        # What the controller's summed entropy starts near and must stay below (TensorBoard).
        self.uniform_entropy = decisions.uniform_entropy(state.controller.program)

    def replica_seed(self, seed):
        """The arc-sampling seed of this replica: its own (per_replica) or the step's (shared)."""
        if self.config.search.arc_sampling == "shared":
            return seed
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        return tf.random.experimental.stateless_fold_in(seed, tf.cast(replica, tf.int32))

    # Child phase -------------------------------------------------------------------------
    def _child_arc(self, seed):
        """The child this replica trains: a policy sample, or uniform under policy=random.

        During the controller's warm-up (`search.controller.warmup_epochs`) children are
        uniform too, so the shared weights start out trained on the whole space rather than
        on whatever the untrained policy's prior prefers. With `search.child_sampling=uniform`
        they stay uniform for the whole search: the controller then learns from shared weights
        that its own preferences did not train (BUILD_NOTES, issue #24).
        """
        search = self.config.search
        if search.policy == "random" or search.get("child_sampling", "policy") == "uniform":
            return self.uniform.sample(self.replica_seed(seed))
        seed = self.replica_seed(seed)
        warmup = self.config.search.controller.get("warmup_epochs", 0)
        if not warmup:
            return self.state.controller.sample(seed)[0]
        # One sampler per step, not both: the controller's LSTM runs only after the warm-up.
        return tf.cond(
            self.state.epoch < warmup,
            lambda: self.uniform.sample(seed),
            lambda: self.state.controller.sample(seed)[0],
        )

    def _child_replica_step(self, seed, batch):
        state, search = self.state, self.config.search
        tokens = self._child_arc(seed)
        variables = state.supernet.trainable_variables
        num_replicas = self.strategy.num_replicas_in_sync
        with tf.GradientTape() as tape:
            loss, decayed, extra = self.task.child_loss(
                state.supernet, batch, tokens, self.global_batch
            )
            l2 = search.optimizer.l2 * training.l2_penalty(decayed) / num_replicas
            total = loss + l2
        grads = tape.gradient(total, variables)
        grad_norm = training.apply_clipped_gradients(
            state.child_optimizer, grads, variables, search.optimizer.grad_clip
        )
        return loss, extra, grad_norm, tokens

    def _train_child(self, iterator, num_steps):
        state, strategy = self.state, self.strategy
        total_loss = tf.constant(0.0)
        extra_sum = tf.constant(0.0)
        grad_norm = tf.constant(0.0)
        for _ in tf.range(num_steps):
            batch = next(iterator)
            seed = state.generator.make_seeds(1)[:, 0]
            loss, extra, norm, _ = strategy.run(self.child_replica_step, args=(seed, batch))
            total_loss += strategy.reduce("SUM", loss, axis=None)
            extra_sum += strategy.reduce("SUM", extra, axis=None)
            grad_norm = strategy.reduce("MEAN", norm, axis=None)
            state.child_step.assign_add(1)
        mean_loss = total_loss / tf.cast(num_steps, tf.float32)
        metrics = self.task.child_metrics(mean_loss, extra_sum, num_steps, self.global_batch)
        # The raw sums let the caller combine several calls into one log line.
        return {**metrics, "grad_norm": grad_norm, "_loss_sum": total_loss, "_extra": extra_sum}

    def _replica_score(self, batch, tokens):
        """This replica's score (accuracy or perplexity) of one arc on its part of a batch."""
        return self.task.score(self.state.supernet, batch, tokens)

    def _evaluate_arc(self, batch, tokens):
        """The task's score (accuracy or perplexity) of one arc on one validation minibatch."""
        score = self.strategy.run(self.replica_score, args=(batch, tokens))
        return self.strategy.reduce("MEAN", score, axis=None)

    def _evaluate_arc_loss(self, batch, tokens):
        """Mean validation cross-entropy of one arc on one minibatch (derive.rank_by=loss)."""
        loss = self.strategy.run(
            lambda b, t: self.task.loss_score(self.state.supernet, b, t), args=(batch, tokens)
        )
        return self.strategy.reduce("MEAN", loss, axis=None)

    def sample_arc(self, seed):
        """(tokens, log_prob, entropy) of a policy sample; uniform tokens under policy=random."""
        if self.config.search.policy == "random":
            tokens = self.sample_uniform(seed)
            return tokens, tf.constant(0.0), tf.constant(0.0)
        policy = self.sample_policy(seed)
        return policy.tokens, policy.log_prob, policy.entropy

"""The ENAS search: alternate a child phase (shared weights w) and a controller phase (policy).

Structure (Orbit style, docs/DESIGN.md rule 7): per-replica step functions (optionally XLA-compiled)
-> a `tf.function` that runs `n` of them in a `tf.range` loop -> an eager outer loop that logs,
writes summaries and checkpoints. The architecture is an int32 tensor sampled inside the step,
so one trace serves every child.

Epoch e = one pass over the training split with a freshly sampled arc per step (paper 2.2),
then `controller.train_steps` REINFORCE updates, each averaging `num_aggregate` sampled arcs
whose reward is their accuracy on one validation minibatch.

Replicas (`enas_tf.runtime.replicas`): each step's global batch is split by rows among the replicas.
With `search.arc_sampling = "per_replica"` every replica samples its own child from a seed
folded with its replica id, so the all-reduced gradient of the shared weights is the Monte
Carlo average of the paper's Eq. 1 over M = replicas children; with "shared" all replicas route
the same child. In the controller phase every replica samples and scores its own arc; the
rewards are all-gathered for the baseline and the policy gradients averaged.

Resume: the checkpoint holds both models, both optimizers, the baseline, the random generator,
the step counters, the epoch/phase and the controller's initial weights (for the check); it is
written every `checkpoint_every_steps` child or controller steps and at every phase end. The
data of epoch e (training batches, and the controller's validation minibatches) is a pure
function of (seed, e), so a run restarted mid-phase skips the batches its finished steps used:
no update is repeated or lost beyond those after the last checkpoint.
"""

from __future__ import annotations

import os
import time

import tensorflow as tf
from absl import logging

from enas_tf import training
from enas_tf.board import tags
from enas_tf.runtime import console, replicas, summaries
from enas_tf.search import check as search_check
from enas_tf.search import reports as search_reports
from enas_tf.search.steps import SearchSteps, build_search_state
from enas_tf.training.phase_loop import PhaseLoop, RunningMeans

_CHILD, _CONTROLLER = 0, 1  # phase variable values: what the current epoch still has to do.


def _distribute(strategy, make_dataset):
    return iter(replicas.distribute_global_batches(strategy, make_dataset))


class Search:
    """Runs (or resumes) the search phase in a workdir."""

    def __init__(self, config, workdir: str, strategy, task, jit_compile: bool):
        """Builds (does not restore) the search state.

        Args:
          config: the run config.
          workdir: where checkpoints and events go.
          strategy: the `tf.distribute` strategy.
          task: `ImageTask` or `LmTask` of the loaded data (it checks the batch sizes).
          jit_compile: XLA-compile the per-replica steps.
        """
        self.config, self.workdir, self.strategy, self.task = config, workdir, strategy, task
        self.steps_per_epoch = task.steps_per_epoch
        self.state = build_search_state(config, strategy, task)
        self.steps = SearchSteps(config, strategy, self.state, task, jit_compile)
        self.manager = self._checkpoint_manager()
        self.writers = summaries.Writers(workdir, enabled=replicas.is_chief(strategy))
        self._phase_seconds: dict[str, float] = {}  # wall time of this epoch's phases
        self._epoch_line: dict[str, str] = {}  # this epoch's parts of its log line
        self._eta = float("nan")
        self.step_lines = console.StepLines()

    def _checkpoint_manager(self) -> replicas.CheckpointManager:
        directory = os.path.join(self.workdir, "search", "ckpt")
        return replicas.CheckpointManager(self.state.checkpoint(), directory, self.strategy)

    def restore(self) -> bool:
        """Restores the latest checkpoint if any; returns whether one was found.

        A checkpoint written before the initial policy was kept resumes without it: the
        checks then compare with random arcs only (one warning says so), and the later
        checkpoints leave it out too, rather than saving weights the run never started from.
        """
        latest = self.manager.restore_latest("search")
        if latest is None:
            return False
        if "initial_controller" in self.manager.keyed.absent:
            logging.warning(
                "search: %s was written before the controller's initial policy was kept in "
                "checkpoints, so this run's checks cannot compare the policy with its initial "
                "policy (only with random arcs)",
                latest,
            )
            self.state.initial_controller = None
            self.steps.sample_initial = None
            self.manager = self._checkpoint_manager()
        logging.info(
            "search: resumed from %s (epoch %d, child step %d, controller step %d)",
            latest,
            int(self.state.epoch.numpy()),
            int(self.state.child_step.numpy()),
            int(self.state.controller_step.numpy()),
        )
        return True

    @property
    def done(self) -> bool:
        return int(self.state.epoch.numpy()) >= self.config.search.epochs

    def train_dataset(self, epoch: int, skip: int):
        """Epoch `epoch`'s global child-phase batches from batch `skip` (the task's)."""
        return self.task.train_dataset(epoch, skip)

    def valid_iterator(self, shuffle_seed: int, skip: int = 0):
        """Distributed, endless, shuffled validation minibatches (rewards and checks)."""
        return _distribute(self.strategy, lambda: self.task.valid_dataset(shuffle_seed).skip(skip))

    def _save(self) -> None:
        self.manager.save(checkpoint_number=int(self.state.child_step.numpy()))

    def run(self, max_child_steps: int | None = None) -> None:
        """Trains until `search.epochs` epochs are done (or `max_child_steps`, for tests).

        Checkpoints every `checkpoint_every_steps` child or controller steps and at every
        phase end; a rerun continues from the last one at the same step of the same phase.
        """
        self.restore()
        state, config = self.state, self.config
        run_start_step = int(state.child_step.numpy())  # For max_child_steps.
        clocks = _Clocks(run_start_step)
        total_steps = config.search.epochs * self.steps_per_epoch
        while not self.done:
            epoch = int(state.epoch.numpy())
            self._phase_seconds = {}
            if int(state.phase.numpy()) == _CHILD:
                phase_started = time.perf_counter()
                done_in_epoch = int(state.child_step.numpy()) - epoch * self.steps_per_epoch
                max_steps = None
                if max_child_steps is not None:
                    max_steps = max_child_steps - (int(state.child_step.numpy()) - run_start_step)
                done_in_epoch = self._child_phase(
                    epoch, done_in_epoch, total_steps, clocks, max_steps
                )
                if done_in_epoch < self.steps_per_epoch:  # stopped by max_child_steps
                    self._save()
                    logging.info("search: stopped after %d child steps", max_child_steps)
                    return
                state.phase.assign(_CONTROLLER)
                self._save()
                self._phase_seconds["child phase"] = time.perf_counter() - phase_started
            self._controller_phase(epoch)
            state.epoch.assign_add(1)
            state.phase.assign(_CHILD)
            self._save()
        self.writers.flush()

    def _child_phase(self, epoch, done, total_steps, clocks, max_steps) -> int:
        """The epoch's child steps from `done` on (at most `max_steps`); returns the new done."""
        # A language model's carried state restarts at every (re)start of an epoch's child
        # phase; image tasks carry nothing.
        self.task.reset_child_state()
        iterator = _distribute(
            self.strategy, lambda epoch=epoch, done=done: self.train_dataset(epoch, done)
        )
        last_grad_norm = [0.0]

        def train(chunk):
            started = time.perf_counter()
            metrics = self.steps.train_child(iterator, tf.constant(chunk))
            loss_sum = float(metrics["_loss_sum"])  # waits for the step
            clocks.child.add(chunk, time.perf_counter() - started)
            clocks.start_wall(int(self.state.child_step.numpy()))
            last_grad_norm[0] = metrics["grad_norm"]  # of the chunk's last step
            return {"loss": loss_sum / chunk, "extra": float(metrics["_extra"]) / chunk}

        def log(means, steps, done):
            # One line for every step since the last one, whatever the calls.
            logged = self.task.child_metrics(
                means["loss"], means["extra"] * steps, steps, self.steps.global_batch
            )
            logged["grad_norm"] = last_grad_norm[0]
            self._log_child(
                logged,
                int(self.state.child_step.numpy()),
                epoch,
                total_steps,
                clocks.wall,
                clocks.child.take_rate(),
            )

        def where():
            return f"search epoch {epoch + 1} child step {int(self.state.child_step.numpy())}"

        loop = self._phase_loop(self.steps_per_epoch, where)
        return loop.run(done, train, on_log=log, max_steps=max_steps)

    def _phase_loop(self, total: int, where) -> PhaseLoop:
        """A phase's loop: this search's cadence, checkpoints and workers (`PhaseLoop`)."""
        return PhaseLoop(self.config, total, self._save, where=where, strategy=self.strategy)

    def _log_child(self, metrics, step, epoch, total_steps, wall_start, child_rate):
        metrics, metric = {k: float(v) for k, v in metrics.items()}, self.task.metric
        metrics["lr"] = training.last_step_learning_rate(self.state.child_optimizer)
        started, start_step = wall_start
        rate = (step - start_step) / max(time.time() - started, 1e-6)  # all phases
        self._eta = (total_steps - step) / rate if rate > 0 else float("nan")
        shown = " ".join(
            f"{name} {value:.4g}" for name, value in metrics.items() if name not in ("lr",)
        )
        self._epoch_line["child"] = "child " + " ".join(
            f"{name} {value:.3g}" for name, value in metrics.items() if name in ("loss", metric)
        )
        self.step_lines.log(
            "search epoch %d/%d child step %d/%d: %s lr %.4g | child %.1f steps/s, ETA %s",
            epoch + 1,
            self.config.search.epochs,
            step,
            total_steps,
            shown,
            metrics["lr"],
            child_rate,
            summaries.format_seconds(self._eta),
        )
        if child_rate == child_rate:  # not NaN (the window held only the first call)
            metrics["steps_per_second"] = child_rate
        self.writers.scalars("train", step, {tags.child(k): v for k, v in metrics.items()})

    def _controller_phase(self, epoch: int) -> None:
        """The epoch's controller updates (none under policy=random), then the check."""
        state, ctrl = self.state, self.config.search.controller
        # Warm-up epochs (`warmup_epochs`: uniform children) make no controller updates, so
        # updates count from the first epoch after them.
        warmup = ctrl.get("warmup_epochs", 0)
        done = int(state.controller_step.numpy()) - max(0, epoch - warmup) * ctrl.train_steps
        if self.config.search.policy == "random" or epoch < warmup:
            done = ctrl.train_steps  # The random-search baseline never updates a controller.
        # The validation minibatches of epoch e are a pure function of (seed, e): a resumed
        # phase skips those its finished updates used.
        iterator = self.valid_iterator(
            self.config.seed * 7919 + epoch, skip=done * _batches_per_update(ctrl)
        )
        phase = RunningMeans()  # the phase's means over all its updates
        phase_started = time.perf_counter()

        def train(chunk):
            values = self.steps.train_controller(iterator, tf.constant(chunk))
            values = {k: float(v) for k, v in values.items()}
            phase.add(values, chunk)
            return values

        def where():
            return f"search epoch {epoch + 1} controller step {int(state.controller_step.numpy())}"

        self._phase_loop(ctrl.train_steps, where).run(done, train)
        if phase.steps:  # none in warm-up epochs and under policy=random
            self._phase_seconds["controller updates"] = time.perf_counter() - phase_started
            self._write_controller(phase.pop())
        self.samples_report(epoch)
        check = None
        if self.check_due(epoch):
            check_started = time.perf_counter()
            check = self.run_check(epoch)
            self._phase_seconds["check"] = time.perf_counter() - check_started
        self._log_epoch(epoch, check)

    def _write_controller(self, stats: dict) -> None:
        """A controller phase's means, at the run's child step (where the phase ran).

        `search/controller/*`: reward, baseline (not under the group baseline), entropy with
        the uniform policy's entropy for reference, loss. The sampled arcs' score is left out:
        for images it is the reward itself, and the children's validation series comes from
        `samples_report`.
        """
        step = int(self.state.child_step.numpy())
        stats.pop(self.task.metric)
        stats["uniform_entropy"] = self.steps.uniform_entropy
        baseline = ""
        if self.config.search.controller.baseline == "group":
            # Each arc's baseline is the mean of the others'; the recorded value, the update's
            # mean reward, would only repeat the reward series.
            stats.pop("baseline")
        else:
            baseline = f" baseline {stats['baseline']:.3g}"
        self.writers.scalars("train", step, {tags.controller(k): v for k, v in stats.items()})
        self._epoch_line["controller"] = (
            f"controller reward {stats['reward']:.3g}{baseline} "
            f"entropy {stats['entropy']:.3g}/{stats['uniform_entropy']:.3g}"
        )

    def _log_epoch(self, epoch: int, check) -> None:
        """The epoch's line (child, controller, times, ETA), then the check's if it ran."""
        keys = ("child", "samples", "controller")
        parts = [self._epoch_line.pop(k) for k in keys if k in self._epoch_line]
        parts = parts or ["resumed after its child phase"]
        warmup = self.config.search.controller.get("warmup_epochs", 0)
        if self.config.search.policy != "random" and epoch < warmup:
            parts.append(f"warm-up {epoch + 1} of {warmup} (uniform children, no controller)")
        times = ", ".join(
            f"{k} {summaries.format_seconds(v)}" for k, v in self._phase_seconds.items()
        )
        logging.info(
            "search epoch %d/%d: %s | %s, ETA %s",
            epoch + 1,
            self.config.search.epochs,
            " | ".join(parts),
            times,
            summaries.format_seconds(self._eta),
        )
        if check is not None:
            line = f"search epoch {epoch + 1}/{self.config.search.epochs} check: {check.summary()}"
            if check.children_vs_chance():
                line += f"; {check.children_vs_chance()}"
            logging.info("%s", line)
        self.step_lines.seen()

    def samples_report(self, epoch: int) -> None:
        """A few arcs of the policy (uniform under policy=random), scored, in TensorBoard.

        `enas_tf.search.reports.SAMPLES_SHOWN` arcs, each scored on the same validation
        minibatch (one per epoch): a text table of the arcs with their scores, and their mean
        as the children's validation series `search/child/<metric>` (`valid/`), beside the
        training minibatches' series of the same tag, for the controller and the random
        baseline alike.
        """
        sampler = self.steps.sample_uniform
        if self.config.search.policy != "random":
            sampler = self.steps.sample_policy
        batches = self.check_batches(self.config.seed * 7919 + 65537 + epoch, num_batches=1)
        seed = self.config.seed * 1_000_003 + 250_007 + epoch
        mean = search_reports.report_samples(self, epoch, sampler, seed, batches)
        metric = self.task.metric
        step = int(self.state.child_step.numpy())
        self.writers.scalars("valid", step, {tags.child(metric): mean})
        who = "random" if self.config.search.policy == "random" else "sampled"
        self._epoch_line["samples"] = f"{who} children valid {metric} {mean:.3g}"

    def check_due(self, epoch: int) -> bool:
        """Whether epoch `epoch` (0-based) ends with a check: every `every_epochs`, and the last."""
        every = self.config.search.check.every_epochs
        return (epoch + 1) % every == 0 or epoch + 1 == self.config.search.epochs

    def check_batches(self, shuffle_seed: int, num_batches: int | None = None):
        """The validation minibatches every arc of a check sees (`search.check.num_batches`)."""
        iterator = self.valid_iterator(shuffle_seed)
        count = num_batches or self.config.search.check.num_batches
        return [next(iterator) for _ in range(count)]

    def run_check(self, epoch: int) -> search_check.CheckResult:
        """Policy samples vs uniform arcs and the initial policy's samples, on the same data.

        See `enas_tf.search.check`. Written to TensorBoard (`search/check/*`, the policy
        heatmaps, the scored arcs as text) and appended to `search/checks.json`
        (`enas_tf.search.reports`); never touches the test split.
        """
        config, check = self.config, self.config.search.check
        batches = self.check_batches(config.seed * 7919 + 104729)
        result = search_check.policy_vs_random(
            self.steps,
            batches,
            num_arcs=check.num_arcs,
            policy_seed=config.seed * 1_000_003 + epoch + 1,
            random_seed=config.seed * 1_000_003,
            with_policy=config.search.policy != "random",
            data=_batches_text(check.num_batches, config.search.eval_batch_size),
            initial_seed=config.seed * 1_000_003 + 500_009,
        )
        search_reports.report_check(self, epoch, result)
        return result


class _Clocks:
    """The run's two clocks: wall time since the first chunk (ETA) and time in child steps.

    The ETA is measured from the end of the first chunk, leaving out the one-off trace; until
    then the rate is unknown. The logged steps/s are the child steps' own throughput (time
    inside child step calls only, first call excluded); the phases' wall times are logged at
    the end of each epoch.
    """

    def __init__(self, run_start_step: int):
        self.wall = (None, run_start_step)  # (time.time() at the first chunk's end, its step)
        self.child = _StepClock()

    def start_wall(self, step: int) -> None:
        if self.wall[0] is None:
            self.wall = (time.time(), step)


class _StepClock:
    """Steps and seconds spent inside step calls, for a throughput free of other phases."""

    def __init__(self):
        self.calls, self.steps, self.seconds = 0, 0, 0.0

    def add(self, steps: int, seconds: float) -> None:
        self.calls += 1
        if self.calls > 1:  # The first call of a run traces the step.
            self.steps += steps
            self.seconds += seconds

    def take_rate(self) -> float:
        """Steps per second since the last call (NaN if none timed), and restarts the count."""
        rate = self.steps / self.seconds if self.seconds > 0 else float("nan")
        self.steps, self.seconds = 0, 0.0
        return rate


def _batches_text(num_batches: int, batch_size: int) -> str:
    plural = "es" if num_batches > 1 else ""
    return f"{num_batches} validation minibatch{plural} of {batch_size}"


def _batches_per_update(ctrl) -> int:
    """Validation minibatches one controller update reads (`search.controller.reward_batch`)."""
    return 1 if ctrl.get("reward_batch", "per_arc") == "per_update" else ctrl.num_aggregate

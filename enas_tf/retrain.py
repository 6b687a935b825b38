"""Retrain a fixed child architecture from scratch (paper 3.1 and 3.2), for any task.

The child is the task's fixed network of the arc at the retrain size (`task.build_child`):
plain Keras layers for the arc's ops only (images: CutOut, and for micro children drop-path
and the auxiliary head; language model: the arc's cell, enas_lm's dropouts and carried state).
What differs between tasks (data, loss, evaluation metric, carried state) comes from the task
object (`enas_tf.tasks`); the loop, checkpoints, logs and result are written once here.
Checkpoints every epoch (and every `checkpoint_every_steps`) into `workdir/retrain/ckpt` and
writes `workdir/retrain/result.json` (validation and test score) when done. The test split is
evaluated once, at the end.
"""

from __future__ import annotations

import os
import time

import tensorflow as tf
from absl import logging

from enas_tf import training
from enas_tf.board import tags
from enas_tf.runtime import checkpoints, console, files, replicas, summaries
from enas_tf.spaces import arc_io
from enas_tf.training.phase_loop import PhaseLoop


def count_params(model) -> int:
    return int(sum(tf.size(v).numpy() for v in model.trainable_variables))


class Retrain:
    """Trains (or resumes training) the fixed child of one arc in a workdir.

    Attributes:
      child: the fixed network (its variables exist after construction).
      step, epoch: int64 counters, checkpointed with the weights.
      manager: the checkpoint manager of `workdir/retrain/ckpt`.
    """

    def __init__(self, config, workdir, strategy, task, arc, jit_compile: bool):
        """Builds the child, its optimizer and the compiled steps (restores nothing).

        Args:
          config: the run config (`retrain.*` is read).
          workdir: the run's workdir; everything goes into `workdir/retrain`.
          strategy: the `tf.distribute` strategy.
          task: `ImageTask` or `LmTask` of the loaded data (it checked the batch sizes).
          arc: the architecture to retrain.
          jit_compile: XLA-compile the per-replica steps.
        """
        self.config, self.workdir, self.strategy, self.task, self.arc = (
            config,
            workdir,
            strategy,
            task,
            arc,
        )
        self.steps_per_epoch = task.retrain_steps_per_epoch()
        with strategy.scope():
            self.child = task.build_child(arc)
            self.optimizer = task.make_retrain_optimizer(self.steps_per_epoch)
            self.optimizer.build(self.child.trainable_variables)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
            task.create_retrain_state(strategy)
        # Weights keyed by variable path (`enas_tf.runtime.checkpoints`); the architecture is
        # fixed by `retrain/arc.json`. Only the chief writes (`enas_tf.runtime.replicas`).
        checkpoint = checkpoints.KeyedCheckpoint(
            {"child": self.child.weights, "optimizer": self.optimizer.variables},
            random_states=checkpoints.random_states_of(self.child),
            step=self.step,
            epoch=self.epoch,
        )
        self.directory = os.path.join(workdir, "retrain")
        self.manager = replicas.CheckpointManager(
            checkpoint, os.path.join(self.directory, "ckpt"), strategy
        )
        self.writers = summaries.Writers(self.directory, enabled=replicas.is_chief(strategy))
        # No autograph in the step (no Python control flow on tensors; as search/steps.py).
        compile_step = tf.function(jit_compile=jit_compile, reduce_retracing=True, autograph=False)
        self.train_replica_step = compile_step(self._train_replica_step)
        self.eval_replica_step = compile_step(self._eval_replica_step)
        self.train_steps = tf.function(self._train_steps)
        self.eval_step = tf.function(self._eval_step)

    @property
    def result_path(self) -> str:
        return os.path.join(self.directory, "result.json")

    def restore_latest(self) -> bool:
        """Restores the newest checkpoint if there is one; returns whether there was."""
        return self.manager.restore_latest("retrain") is not None

    # Compiled steps ------------------------------------------------------------------------
    def _train_replica_step(self, batch):
        rt = self.config.retrain
        variables = self.child.trainable_variables
        with tf.GradientTape() as tape:
            loss, decayed, extra = self.task.retrain_loss(self.child, batch, rt.batch_size)
            l2 = rt.optimizer.l2 * training.l2_penalty(decayed)
            total = loss + l2 / self.strategy.num_replicas_in_sync
        grads = tape.gradient(total, variables)
        training.apply_clipped_gradients(self.optimizer, grads, variables, rt.optimizer.grad_clip)
        return loss, extra

    def _train_steps(self, iterator, num_steps):
        """`num_steps` training steps: their mean loss and mean task extra (e.g. correct
        predictions per step); `task.child_metrics` turns the means into logged metrics."""
        total_loss, extra_sum = tf.constant(0.0), tf.constant(0.0)
        for _ in tf.range(num_steps):
            loss, extra = self.strategy.run(self.train_replica_step, args=(next(iterator),))
            total_loss += self.strategy.reduce("SUM", loss, axis=None)
            extra_sum += self.strategy.reduce("SUM", extra, axis=None)
            self.step.assign_add(1)
        steps = tf.cast(num_steps, tf.float32)
        return {"loss": total_loss / steps, "extra": extra_sum / steps}

    def _eval_replica_step(self, batch):
        return self.task.eval_sums(self.child, batch)

    def _eval_step(self, batch):
        total, count = self.strategy.run(self.eval_replica_step, args=(batch,))
        return (
            self.strategy.reduce("SUM", total, axis=None),
            self.strategy.reduce("SUM", count, axis=None),
        )

    # Eager API -------------------------------------------------------------------------------
    def train_dataset(self, epoch: int, skip: int = 0) -> tf.data.Dataset:
        """Epoch `epoch`'s global training batches (a pure function of seed and epoch)."""
        return self.task.retrain_dataset(epoch, skip)

    def evaluate(self, split: str) -> float:
        """The task's score (accuracy, perplexity) of the child on every example of `split`.

        `split` is "valid" or "test". The rows of each global batch are shared among the
        replicas; a carried state (language model) starts from zeros.
        """
        self.task.reset_retrain_state()
        total, count = 0.0, 0.0
        batches = replicas.distribute_global_batches(
            self.strategy, lambda: self.task.eval_dataset(split)
        )
        for batch in batches:
            t, c = self.eval_step(batch)
            total, count = total + float(t), count + float(c)
        return self.task.eval_score(total, count)

    def run(self) -> dict:
        """Trains to `retrain.epochs`, evaluates on the test split, writes result.json."""
        restored = self.manager.restore_latest("retrain")
        if restored:
            logging.info(
                "retrain: resumed from %s (epoch %d, step %d)",
                restored,
                int(self.epoch.numpy()),
                int(self.step.numpy()),
            )
        rt, metric = self.config.retrain, self.task.metric
        params = count_params(self.child)
        logging.info("retrain: %d trainable parameters", params)
        clock = (time.time(), int(self.step.numpy()))
        self._step_lines, self._last_line = console.StepLines(), {"train": "", "eta": "?"}
        loop = PhaseLoop(
            self.config,
            self.steps_per_epoch,
            self._save,
            where=lambda: (
                f"retrain epoch {int(self.epoch.numpy()) + 1} step {int(self.step.numpy())}"
            ),
            strategy=self.strategy,
        )
        valid_score = None
        while int(self.epoch.numpy()) < rt.epochs:
            epoch = int(self.epoch.numpy())
            self.task.begin_retrain_epoch(self.child, epoch)
            done = int(self.step.numpy()) - epoch * self.steps_per_epoch
            iterator = iter(
                replicas.distribute_global_batches(
                    self.strategy, lambda epoch=epoch, done=done: self.train_dataset(epoch, done)
                )
            )

            def train(chunk, iterator=iterator):
                metrics = self.train_steps(iterator, tf.constant(chunk))
                return {name: float(value) for name, value in metrics.items()}

            loop.run(
                done,
                train,
                on_log=lambda means, steps, done, epoch=epoch: self._log(
                    means, steps, epoch, clock
                ),
            )
            valid_score = self.evaluate("valid")
            logging.info(
                "retrain epoch %d/%d: %svalid %s %.4f | ETA %s",
                epoch + 1,
                rt.epochs,
                self._last_line["train"],
                metric,
                valid_score,
                self._last_line["eta"],
            )
            self._step_lines.seen()
            step = int(self.step.numpy())
            self.writers.scalars("valid", step, {tags.retrain(metric): valid_score})
            self.epoch.assign_add(1)
            self._save()
        if valid_score is None:
            valid_score = self.evaluate("valid")
        test_score = self.evaluate("test")
        result = {
            f"valid_{metric}": valid_score,
            f"test_{metric}": test_score,
            "epochs": int(self.epoch.numpy()),
            "steps": int(self.step.numpy()),
            "trainable_params": params,
            **self.task.result_fields(),
            "arc": self.arc.to_json(),
        }
        logging.info("retrain: test %s %.4f (valid %.4f)", metric, test_score, valid_score)
        # The test score is one number: a result (`summary/*`, HParams), not a series.
        self.writers.flush()
        if replicas.is_chief(self.strategy):
            files.write_json_atomic(self.result_path, result)
            arc_io.save_arc(self.arc, os.path.join(self.directory, "arc.json"))
        return result

    def _save(self) -> None:
        self.manager.save(checkpoint_number=int(self.step.numpy()))

    def _log(self, means: dict, steps: int, epoch: int, clock) -> None:
        """One progress line and the train scalars, from the means since the last line."""
        rt = self.config.retrain
        metrics = self.task.child_metrics(
            means["loss"], means["extra"] * steps, steps, rt.batch_size
        )
        metrics = {name: float(value) for name, value in metrics.items()}
        step, total_steps = int(self.step.numpy()), rt.epochs * self.steps_per_epoch
        started, start_step = clock
        rate = (step - start_step) / max(time.time() - started, 1e-6)
        lr = training.last_step_learning_rate(self.optimizer)
        shown = " ".join(f"{name} {value:.4g}" for name, value in metrics.items())
        eta = summaries.format_seconds((total_steps - step) / rate if rate else None)
        self._last_line = {"train": f"train {shown} | ", "eta": eta}
        self._step_lines.log(
            "retrain epoch %d/%d step %d/%d: %s lr %.4g | ETA %s",
            epoch + 1,
            rt.epochs,
            step,
            total_steps,
            shown,
            lr,
            eta,
        )
        metrics["lr"] = lr
        self.writers.scalars("train", step, {tags.retrain(k): v for k, v in metrics.items()})

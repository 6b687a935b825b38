"""Retrain the fixed language model of an RNN cell from scratch (paper 3.1, appendix A).

The child is `RnnChild` at the retrain size (`retrain.model`): the arc's cell only, tied
embedding/softmax, enas_lm's dropouts, U(-0.04, 0.04) initialisation. Training is truncated
BPTT over the training stream in order, the hidden state carried from window to window and
reset at every epoch start; plain SGD at `retrain.optimizer.lr` decayed per epoch, global-norm
clipping, l2 on the cell weights. Checkpoints every epoch into `workdir/retrain/ckpt`; at the
end, `workdir/retrain/result.json` holds the validation and test perplexity (whole splits,
state carried, no dropout). The test split is evaluated once, at the end.
"""

from __future__ import annotations

import math
import os
import time

import tensorflow as tf
from absl import logging

from enas_tf import files, replicas, summaries, training
from enas_tf.data import text as text_data
from enas_tf.lm_task import check_lm_windows
from enas_tf.models import builders
from enas_tf.retrain import retrain_outputs
from enas_tf.spaces import arc_io
from enas_tf.training import checkpoint_due, train_chunk


class LmRetrain:
    """Trains (or resumes training) the fixed LM of one `RnnArc` in a workdir."""

    def __init__(self, config, workdir, strategy, splits: text_data.TextSplits, arc, jit_compile):
        self.config, self.workdir, self.strategy, self.splits, self.arc = (
            config,
            workdir,
            strategy,
            splits,
            arc,
        )
        rt = config.retrain
        check_lm_windows(config, splits)
        self.steps_per_epoch = text_data.num_windows(len(splits.train), rt.batch_size, rt.bptt)
        per_replica = rt.batch_size // strategy.num_replicas_in_sync
        with strategy.scope():
            self.child = builders.build_lm_child(config, arc, splits.vocab_size)
            self.optimizer = training.make_lm_optimizer(rt.optimizer, self.steps_per_epoch)
            self.optimizer.build(self.child.trainable_variables)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
            # The carried hidden states, one copy of this replica's rows per replica
            # (ON_READ: never synchronised); training and whole-split evaluation.
            self.state = _replica_state(per_replica, rt.model.hidden_size, "lm_state")
            self.eval_state = _replica_state(
                rt.eval_batch_size // strategy.num_replicas_in_sync,
                rt.model.hidden_size,
                "lm_eval_state",
            )
        self.directory, self.manager, self.writers = retrain_outputs(
            workdir, strategy, self.child, self.optimizer, self.step, self.epoch
        )
        compile_step = tf.function(jit_compile=jit_compile, reduce_retracing=True)
        self.train_replica_step = compile_step(self._train_replica_step)
        self.eval_replica_step = compile_step(self._eval_replica_step)
        self.train_steps = tf.function(self._train_steps)
        self.eval_step = tf.function(self._eval_step)
        self._reset_states = tf.function(self._reset_replica_states)

    @property
    def result_path(self) -> str:
        return os.path.join(self.directory, "result.json")

    def _train_replica_step(self, inputs, targets):
        rt = self.config.retrain
        variables = self.child.trainable_variables
        with tf.GradientTape() as tape:
            logits, next_state = self.child(inputs, self.state.read_value(), training=True)
            self.state.assign(tf.stop_gradient(next_state))
            xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
            loss = tf.reduce_sum(xent) / tf.cast(rt.batch_size * tf.shape(targets)[1], tf.float32)
            l2 = rt.optimizer.l2 * training.l2_penalty(self.child.cell.trainable_variables)
            total = loss + l2 / self.strategy.num_replicas_in_sync
        grads = tape.gradient(total, variables)
        training.apply_clipped_gradients(self.optimizer, grads, variables, rt.optimizer.grad_clip)
        return loss

    def _train_steps(self, iterator, num_steps):
        total = 0.0
        for _ in tf.range(num_steps):
            inputs, targets = next(iterator)
            loss = self.strategy.run(self.train_replica_step, args=(inputs, targets))
            total += self.strategy.reduce("SUM", loss, axis=None)
            self.step.assign_add(1)
        return total / tf.cast(num_steps, tf.float32)

    def _eval_replica_step(self, inputs, targets):
        logits, next_state = self.child(inputs, self.eval_state.read_value(), training=False)
        self.eval_state.assign(next_state)
        xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
        return tf.reduce_sum(xent), tf.cast(tf.size(targets), tf.float32)

    def _eval_step(self, inputs, targets):
        loss_sum, count = self.strategy.run(self.eval_replica_step, args=(inputs, targets))
        return (
            self.strategy.reduce("SUM", loss_sum, axis=None),
            self.strategy.reduce("SUM", count, axis=None),
        )

    def _reset_replica_states(self):
        self.state.assign(tf.zeros_like(self.state))
        self.eval_state.assign(tf.zeros_like(self.eval_state))

    def reset_states(self) -> None:
        """Zeros the carried states (per replica: ON_READ variables with no aggregation)."""
        self.strategy.run(self._reset_states)

    def perplexity(self, ids) -> float:
        """Perplexity of a whole split, state carried across windows (no dropout).

        The split's `retrain.eval_batch_size` rows are shared among the replicas; every full
        BPTT window is scored (the tail shorter than a window is not, as in enas_lm).
        """
        rt = self.config.retrain
        self.reset_states()
        windows = replicas.distribute_global_batches(
            self.strategy,
            lambda: text_data.make_lm_dataset(ids, batch_size=rt.eval_batch_size, bptt=rt.bptt),
        )
        total, count = 0.0, 0.0
        for inputs, targets in windows:
            loss_sum, n = self.eval_step(inputs, targets)
            total, count = total + float(loss_sum), count + float(n)
        return math.exp(total / max(count, 1.0))

    def run(self) -> dict:
        """Trains to `retrain.epochs`, evaluates the test split, writes result.json."""
        latest = self.manager.latest_checkpoint
        if latest:
            self.manager.restore(latest, "retrain")
            logging.info("retrain: resumed from %s (epoch %d)", latest, int(self.epoch.numpy()))
        rt = self.config.retrain
        params = int(sum(tf.size(v).numpy() for v in self.child.trainable_variables))
        logging.info("retrain: %d trainable parameters", params)
        started, start_step = time.time(), int(self.step.numpy())
        total_steps = rt.epochs * self.steps_per_epoch
        valid_ppl = None
        while int(self.epoch.numpy()) < rt.epochs:
            epoch = int(self.epoch.numpy())
            done = int(self.step.numpy()) - epoch * self.steps_per_epoch
            self.reset_states()
            iterator = iter(
                replicas.distribute_global_batches(
                    self.strategy,
                    lambda done=done: text_data.make_lm_dataset(
                        self.splits.train, batch_size=rt.batch_size, bptt=rt.bptt, start_window=done
                    ),
                )
            )
            means = summaries.RunningMeans()
            while done < self.steps_per_epoch:
                chunk = train_chunk(self.config, done, self.steps_per_epoch)
                means.add({"loss": self.train_steps(iterator, tf.constant(chunk))}, chunk)
                done += chunk
                if checkpoint_due(self.config, done, self.steps_per_epoch):
                    self.manager.save(checkpoint_number=int(self.step.numpy()))
                if done % self.config.log_every_steps and done < self.steps_per_epoch:
                    continue
                loss = means.pop()["loss"]
                step = int(self.step.numpy())
                rate = (step - start_step) / max(time.time() - started, 1e-6)
                lr = training.current_learning_rate(self.optimizer)
                logging.info(
                    "retrain epoch %d/%d step %d/%d: loss %.4f perplexity %.1f lr %.4g | ETA %s",
                    epoch + 1,
                    rt.epochs,
                    step,
                    total_steps,
                    loss,
                    math.exp(min(loss, 50.0)),
                    lr,
                    summaries.format_seconds((total_steps - step) / rate if rate else None),
                )
                self.writers.scalars("train", step, {"loss": loss, "lr": lr})
            valid_ppl = self.perplexity(self.splits.valid)
            logging.info(
                "retrain epoch %d/%d: valid perplexity %.2f", epoch + 1, rt.epochs, valid_ppl
            )
            self.writers.scalars("valid", int(self.step.numpy()), {"perplexity": valid_ppl})
            self.epoch.assign_add(1)
            self.manager.save(checkpoint_number=int(self.step.numpy()))
        if valid_ppl is None:
            valid_ppl = self.perplexity(self.splits.valid)
        test_ppl = self.perplexity(self.splits.test)
        result = {
            "valid_perplexity": valid_ppl,
            "test_perplexity": test_ppl,
            "epochs": int(self.epoch.numpy()),
            "steps": int(self.step.numpy()),
            "trainable_params": params,
            "data": self.splits.source,
            "data_deviations": list(self.splits.deviations),
            "arc": self.arc.to_json(),
        }
        logging.info("retrain: test perplexity %.2f (valid %.2f)", test_ppl, valid_ppl)
        self.writers.scalars("test", int(self.step.numpy()), {"perplexity": test_ppl})
        self.writers.flush()
        if replicas.is_chief(self.strategy):
            files.write_json_atomic(self.result_path, result)
            arc_io.save_arc(self.arc, os.path.join(self.directory, "arc.json"))
        return result


def _replica_state(rows: int, hidden_size: int, name: str) -> tf.Variable:
    return tf.Variable(
        tf.zeros([rows, hidden_size]),
        trainable=False,
        synchronization=tf.VariableSynchronization.ON_READ,
        aggregation=tf.VariableAggregation.NONE,
        name=name,
    )

"""Retrain a fixed child architecture from scratch (paper 3.2: same settings as the search).

The child is the space's fixed network (`MicroChild` or `MacroChild`, built by
`enas_tf.models.builders`): plain Keras layers for the arc's ops only, with CutOut, and for
micro children drop-path and the auxiliary head, as configured. Checkpoints every epoch into
`workdir/retrain/ckpt` and writes `workdir/retrain/result.json` (validation and test accuracy)
when done. The test split is evaluated once, at the end.
"""

from __future__ import annotations

import os
import time

import tensorflow as tf
from absl import logging

from enas_tf import checkpoints, files, replicas, summaries, training
from enas_tf import configs as config_lib
from enas_tf.data import images as image_data
from enas_tf.models import builders
from enas_tf.spaces import arc_io
from enas_tf.training import checkpoint_due, train_chunk


def build_child(config, arc, num_classes: int, image_shape):
    """The fixed network of `arc` at the retrain size, with every variable created."""
    return builders.build_child(config, arc, num_classes, image_shape)


def retrain_outputs(workdir, strategy, child, optimizer, step, epoch):
    """(`workdir/retrain`, its checkpoint manager, its TensorBoard writers) for any child.

    The checkpoint holds the weights keyed by variable path (`enas_tf.checkpoints`); the
    architecture is fixed by `retrain/arc.json`. Only the chief writes (`enas_tf.replicas`).
    """
    checkpoint = checkpoints.KeyedCheckpoint(
        {"child": child.weights, "optimizer": optimizer.variables}, step=step, epoch=epoch
    )
    directory = os.path.join(workdir, "retrain")
    manager = replicas.CheckpointManager(checkpoint, os.path.join(directory, "ckpt"), strategy)
    return directory, manager, summaries.Writers(directory, enabled=replicas.is_chief(strategy))


def count_params(model) -> int:
    return int(sum(tf.size(v).numpy() for v in model.trainable_variables))


class Retrain:
    """Trains (or resumes training) the fixed child of one arc in a workdir."""

    def __init__(
        self, config, workdir, strategy, splits: image_data.ImageSplits, arc, jit_compile: bool
    ):
        self.config, self.workdir, self.strategy, self.splits, self.arc = (
            config,
            workdir,
            strategy,
            splits,
            arc,
        )
        rt = config.retrain
        config_lib.check_batch_sizes(config, len(splits.train_labels), len(splits.valid_labels))
        self.steps_per_epoch = len(splits.train_labels) // rt.batch_size
        self.image_shape = splits.train_images.shape[1:]
        with strategy.scope():
            self.child = build_child(config, arc, splits.num_classes, self.image_shape)
            self.optimizer = training.make_child_optimizer(rt.optimizer, self.steps_per_epoch)
            self.optimizer.build(self.child.trainable_variables)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.directory, self.manager, self.writers = retrain_outputs(
            workdir, strategy, self.child, self.optimizer, self.step, self.epoch
        )
        compile_step = tf.function(jit_compile=jit_compile, reduce_retracing=True)
        self.train_replica_step = compile_step(self._train_replica_step)
        self.eval_replica_step = compile_step(self._eval_replica_step)
        self.train_steps = tf.function(self._train_steps)
        self.eval_step = tf.function(self._eval_step)

    @property
    def result_path(self) -> str:
        return os.path.join(self.directory, "result.json")

    def _train_replica_step(self, images, labels):
        rt = self.config.retrain
        variables = self.child.trainable_variables
        with tf.GradientTape() as tape:
            logits, aux_logits = self.child(images, training=True)
            loss = training.classification_loss(
                logits,
                aux_logits,
                labels,
                aux_weight=rt.get("aux_weight", 0.0),
                global_batch_size=rt.batch_size,
            )
            l2 = rt.optimizer.l2 * training.l2_penalty(variables)
            total = loss + l2 / self.strategy.num_replicas_in_sync
        grads = tape.gradient(total, variables)
        training.apply_clipped_gradients(self.optimizer, grads, variables, rt.optimizer.grad_clip)
        return loss, training.accuracy_count(logits, labels)

    def _train_steps(self, iterator, num_steps):
        total_loss, correct = 0.0, 0.0
        for _ in tf.range(num_steps):
            images, labels = next(iterator)
            loss, right = self.strategy.run(self.train_replica_step, args=(images, labels))
            total_loss += self.strategy.reduce("SUM", loss, axis=None)
            correct += self.strategy.reduce("SUM", right, axis=None)
            self.step.assign_add(1)
        steps = tf.cast(num_steps, tf.float32)
        return total_loss / steps, correct / (steps * self.config.retrain.batch_size)

    def _eval_replica_step(self, images, labels, weights):
        logits, _ = self.child(images, training=False)
        return training.accuracy_count(logits, labels, weights), tf.reduce_sum(weights)

    def _eval_step(self, images, labels, weights):
        right, count = self.strategy.run(self.eval_replica_step, args=(images, labels, weights))
        return (
            self.strategy.reduce("SUM", right, axis=None),
            self.strategy.reduce("SUM", count, axis=None),
        )

    def evaluate(self, images, labels) -> float:
        """Top-1 accuracy over every example of a split (the last batch padded, not dropped)."""
        batch_size = self.config.retrain.eval_batch_size

        def make_dataset():
            dataset = image_data.make_eval_dataset(
                images,
                labels,
                batch_size=batch_size,
                mean=self.splits.channel_mean,
                std=self.splits.channel_std,
                drop_remainder=False,
            )
            return replicas.pad_final_batch(dataset, batch_size)

        right, count = 0.0, 0.0
        for batch in replicas.distribute_global_batches(self.strategy, make_dataset):
            r, c = self.eval_step(*batch)
            right, count = right + float(r), count + float(c)
        return right / max(count, 1.0)

    def _train_dataset(self, epoch: int):
        """Epoch `epoch` of augmented training batches: a pure function of (seed, epoch)."""
        return image_data.make_train_dataset(
            self.splits.train_images,
            self.splits.train_labels,
            batch_size=self.config.retrain.batch_size,
            mean=self.splits.channel_mean,
            std=self.splits.channel_std,
            seed=self.config.seed * 100003 + 7 + epoch,
            augment=True,
            cutout_size=self.config.retrain.cutout_size,
            repeat=False,
        )

    def run(self) -> dict:
        """Trains to `retrain.epochs`, evaluates on the test split, writes result.json."""
        latest = self.manager.latest_checkpoint
        if latest:
            self.manager.restore(latest, "retrain")
            logging.info("retrain: resumed from %s (epoch %d)", latest, int(self.epoch.numpy()))
        rt = self.config.retrain
        logging.info("retrain: %d trainable parameters", count_params(self.child))
        started, start_step = time.time(), int(self.step.numpy())
        total_steps = rt.epochs * self.steps_per_epoch
        valid_accuracy = None
        while int(self.epoch.numpy()) < rt.epochs:
            epoch = int(self.epoch.numpy())
            if hasattr(self.child, "progress"):  # drop-path schedule (micro children)
                self.child.progress.assign(epoch / max(rt.epochs, 1))
            done = int(self.step.numpy()) - epoch * self.steps_per_epoch
            iterator = iter(
                replicas.distribute_global_batches(
                    self.strategy,
                    lambda epoch=epoch, done=done: self._train_dataset(epoch).skip(done),
                )
            )
            means = summaries.RunningMeans()
            while done < self.steps_per_epoch:
                chunk = train_chunk(self.config, done, self.steps_per_epoch)
                loss, accuracy = self.train_steps(iterator, tf.constant(chunk))
                means.add({"loss": loss, "accuracy": accuracy}, chunk)
                done += chunk
                if checkpoint_due(self.config, done, self.steps_per_epoch):
                    self.manager.save(checkpoint_number=int(self.step.numpy()))
                step = int(self.step.numpy())
                if done % self.config.log_every_steps and done < self.steps_per_epoch:
                    continue
                logged = means.pop()
                loss, accuracy = logged["loss"], logged["accuracy"]
                rate = (step - start_step) / max(time.time() - started, 1e-6)
                lr = training.current_learning_rate(self.optimizer)
                logging.info(
                    "retrain epoch %d/%d step %d/%d: loss %.4f acc %.3f lr %.4g | ETA %s",
                    epoch + 1,
                    rt.epochs,
                    step,
                    total_steps,
                    float(loss),
                    float(accuracy),
                    lr,
                    summaries.format_seconds((total_steps - step) / rate if rate else None),
                )
                self.writers.scalars("train", step, {"loss": loss, "accuracy": accuracy, "lr": lr})
            valid_accuracy = self.evaluate(self.splits.valid_images, self.splits.valid_labels)
            logging.info(
                "retrain epoch %d/%d: valid accuracy %.4f", epoch + 1, rt.epochs, valid_accuracy
            )
            self.writers.scalars("valid", int(self.step.numpy()), {"accuracy": valid_accuracy})
            self.epoch.assign_add(1)
            self.manager.save(checkpoint_number=int(self.step.numpy()))
        if valid_accuracy is None:
            valid_accuracy = self.evaluate(self.splits.valid_images, self.splits.valid_labels)
        test_accuracy = self.evaluate(self.splits.test_images, self.splits.test_labels)
        result = {
            "valid_accuracy": valid_accuracy,
            "test_accuracy": test_accuracy,
            "epochs": int(self.epoch.numpy()),
            "steps": int(self.step.numpy()),
            "trainable_params": count_params(self.child),
            "arc": self.arc.to_json(),
        }
        logging.info("retrain: test accuracy %.4f (valid %.4f)", test_accuracy, valid_accuracy)
        self.writers.scalars("test", int(self.step.numpy()), {"accuracy": test_accuracy})
        self.writers.flush()
        if replicas.is_chief(self.strategy):
            files.write_json_atomic(self.result_path, result)
            arc_io.save_arc(self.arc, os.path.join(self.directory, "arc.json"))
        return result

"""What the search loop needs to know about image classification (micro and macro spaces).

`enas_tf.search` is written once for every space; a task object supplies the data, the child
loss, and how a sampled child is scored on a validation minibatch. This is the image task:
batches are `(images, labels)`, the child loss is cross-entropy (+ the auxiliary head's), and a
child is scored by its accuracy, which is also the controller's reward (paper 3.2).
`enas_tf.lm_task` is the language-model counterpart.
"""

from __future__ import annotations

import tensorflow as tf

from enas_tf import configs as config_lib
from enas_tf import training
from enas_tf.data import images as image_data
from enas_tf.models import builders


class ImageTask:
    """Image classification on `ImageSplits`.

    Attributes:
      metric: name of the per-child validation score ("accuracy"); higher is better.
      higher_is_better: whether derive keeps the candidate with the highest score.
    """

    metric = "accuracy"
    higher_is_better = True

    def __init__(self, config, splits: image_data.ImageSplits):
        self.config, self.splits = config, splits
        config_lib.check_batch_sizes(config, len(splits.train_labels), len(splits.valid_labels))
        self.steps_per_epoch = len(splits.train_labels) // config.search.batch_size
        self.chance_score = 1.0 / splits.num_classes  # accuracy of a uniform guess

    # Models and optimizers (called inside strategy.scope()) ---------------------------------
    def build_supernet(self):
        return builders.build_supernet(
            self.config, self.splits.num_classes, self.splits.train_images.shape[1:]
        )

    def make_child_optimizer(self):
        return training.make_child_optimizer(self.config.search.optimizer, self.steps_per_epoch)

    def create_child_state(self, strategy) -> None:
        """Images carry nothing between steps."""

    def reset_child_state(self) -> None:
        """Images carry nothing between steps."""

    # Data ------------------------------------------------------------------------------------
    def train_dataset(self, epoch: int, skip: int) -> tf.data.Dataset:
        """Epoch `epoch` of the training split (a pure function of seed and epoch), minus `skip`."""
        splits = self.splits
        dataset = image_data.make_train_dataset(
            splits.train_images,
            splits.train_labels,
            batch_size=self.config.search.batch_size,
            mean=splits.channel_mean,
            std=splits.channel_std,
            seed=self.config.seed * 100003 + epoch,
            augment=True,
            repeat=False,
        )
        return dataset.skip(skip)

    def valid_dataset(self, shuffle_seed: int) -> tf.data.Dataset:
        """Endless shuffled validation minibatches of `search.eval_batch_size`."""
        splits = self.splits
        return image_data.make_eval_dataset(
            splits.valid_images,
            splits.valid_labels,
            batch_size=self.config.search.eval_batch_size,
            mean=splits.channel_mean,
            std=splits.channel_std,
            shuffle_seed=shuffle_seed,
            repeat=True,
        )

    # Per-replica math ------------------------------------------------------------------------
    def child_loss(self, supernet, batch, tokens, global_batch_size: int):
        """(loss averaged over the global batch, variables to decay, correct predictions)."""
        images, labels = batch
        logits, aux_logits = supernet(images, tokens, training=True)
        loss = training.classification_loss(
            logits,
            aux_logits,
            labels,
            aux_weight=self.config.search.get("aux_weight", 0.0),
            global_batch_size=global_batch_size,
        )
        return loss, supernet.trainable_variables, training.accuracy_count(logits, labels)

    def child_metrics(self, mean_loss, extra_sum, num_steps, global_batch_size):
        """Logged child metrics of a chunk of steps, from the summed per-step extras."""
        return {
            "loss": mean_loss,
            "accuracy": extra_sum / (tf.cast(num_steps, tf.float32) * global_batch_size),
        }

    def score(self, supernet, batch, tokens):
        """Accuracy of one arc on one validation minibatch (this replica's share)."""
        images, labels = batch
        logits, _ = supernet(images, tokens, training=False)
        return training.accuracy_count(logits, labels) / tf.cast(tf.shape(labels)[0], tf.float32)

    def reward(self, score):
        """The controller's reward is the validation accuracy itself."""
        return score

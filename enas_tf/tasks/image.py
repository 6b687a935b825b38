"""Image classification (micro and macro spaces): everything the pipeline needs to know about it.

The search, derive, retraining and export are written once; a task object supplies the data,
the losses and scores, the fixed child and how it is served. This is the image task: batches
are `(images, labels)`, the child loss is cross-entropy (+ the auxiliary head's), a child is
scored by its accuracy, which is also the controller's reward (paper 3.2), and the exported
model takes raw pixels. `enas_tf.tasks.language_model` is the language-model counterpart.
"""

from __future__ import annotations

import os

import keras
import ml_collections
import tensorflow as tf

from enas_tf import config as config_lib
from enas_tf import training
from enas_tf.data import image_options, image_stream
from enas_tf.data import images as image_data
from enas_tf.export import write_version
from enas_tf.runtime import replicas
from enas_tf.spaces import registry
from enas_tf.tasks import image_serving


class ImageTask:
    """Image classification on `ImageSplits`: search, retraining, evaluation and export.

    Attributes:
      metric: name of the per-child validation score ("accuracy"); higher is better.
      higher_is_better: whether derive keeps the candidate with the highest score.
    """

    metric = "accuracy"
    higher_is_better = True

    def __init__(self, config, splits):
        """`splits`: `images.ImageSplits` (in memory) or `image_stream.StreamSplits`."""
        self.config, self.splits = config, splits
        self.streamed = isinstance(splits, image_stream.StreamSplits)
        config_lib.check_batch_sizes(config, splits.num_train, splits.num_valid)
        self.steps_per_epoch = splits.num_train // config.search.batch_size
        # Images are stored at the retrain's resolution; with `retrain.image_size` set the
        # search sees them resized to `data.image_size` (its own, smaller, resolution).
        self.retrain_image_shape = tuple(splits.image_shape)
        search_size = None
        if image_options.parse_image_size(config.retrain.get("image_size", "")):
            search_size = image_options.parse_image_size(config.data.image_size)
        if search_size == self.retrain_image_shape[:2]:
            search_size = None
        self.search_resize = search_size
        channels = self.retrain_image_shape[2]
        self.image_shape = (*search_size, channels) if search_size else self.retrain_image_shape
        self.chance_score = 1.0 / splits.num_classes  # accuracy of a uniform guess

    @classmethod
    def load(cls, config) -> ImageTask:
        """The task on `config.data` (a bad path or file fails here), streamed if too large.

        With `retrain.image_size` set, the images are loaded at that size.
        """
        data = config.data
        retrain_size = str(config.retrain.get("image_size", "")).strip()
        if image_options.parse_image_size(retrain_size):
            data = ml_collections.ConfigDict(config.data.to_dict())
            data.image_size = retrain_size
        if image_stream.should_stream(data):
            return cls(config, image_stream.open_stream(data))
        return cls(config, image_data.load_image_splits(data))

    @property
    def description(self) -> str:
        """One line for the run's log: the splits' sizes, the image shape, streamed or not."""
        splits = self.splits
        where = "streamed from TFRecord shards" if self.streamed else "in memory"
        retrain = ""
        if self.search_resize:
            retrain = f" (retrained and exported at {self.retrain_image_shape})"
        return (
            f"{splits.num_train} train / {splits.num_valid} valid / {splits.num_test} test "
            f"images of shape {self.image_shape}{retrain}, {where}"
        )

    # Models and optimizers (called inside strategy.scope()) ---------------------------------
    def build_supernet(self):
        return registry.of(self.config).build_supernet(
            num_classes=self.splits.num_classes, image_shape=self.image_shape
        )

    def make_child_optimizer(self):
        return training.make_child_optimizer(self.config.search.optimizer, self.steps_per_epoch)

    def create_child_state(self, strategy) -> None:
        """Images carry nothing between steps."""

    def reset_child_state(self) -> None:
        """Images carry nothing between steps."""

    # Data ------------------------------------------------------------------------------------
    def train_dataset(self, epoch: int, skip: int):
        """Epoch `epoch` of the training split (a pure function of seed and epoch), minus `skip`."""
        return self._train_batches(
            self.config.search.batch_size,
            self.config.seed * 100003 + epoch,
            skip,
            cutout=0,
            resize_to=self.search_resize,
        )

    def _train_batches(self, batch_size: int, seed: int, skip: int, cutout: int, resize_to=None):
        """Augmented global batches in memory, or each input pipeline's own when streamed."""
        splits = self.splits
        if self.streamed:
            return image_stream.train_batches(
                splits,
                global_batch=batch_size,
                steps=splits.num_train // batch_size,
                seed=seed,
                skip=skip,
                cutout_size=cutout,
                shuffle_buffer=int(self.config.data.get("shuffle_buffer", 10_000)),
                resize_to=resize_to,
            )
        dataset = image_data.make_train_dataset(
            splits.train_images,
            splits.train_labels,
            batch_size=batch_size,
            mean=splits.channel_mean,
            std=splits.channel_std,
            seed=seed,
            augment=True,
            cutout_size=cutout,
            repeat=False,
            resize_to=resize_to,
        )
        return dataset.skip(skip)

    def valid_dataset(self, shuffle_seed: int) -> tf.data.Dataset:
        """Endless shuffled validation minibatches of `search.eval_batch_size`."""
        splits = self.splits
        if self.streamed:
            return image_stream.eval_batches(
                splits,
                "valid",
                batch_size=self.config.search.eval_batch_size,
                shuffle_seed=shuffle_seed,
                repeat=True,
                resize_to=self.search_resize,
            )
        return image_data.make_eval_dataset(
            splits.valid_images,
            splits.valid_labels,
            batch_size=self.config.search.eval_batch_size,
            mean=splits.channel_mean,
            std=splits.channel_std,
            shuffle_seed=shuffle_seed,
            repeat=True,
            resize_to=self.search_resize,
        )

    # Per-replica math ------------------------------------------------------------------------
    def child_loss(self, supernet, batch, tokens, global_batch_size: int):
        """(loss averaged over the global batch, variables to decay, correct predictions)."""
        images, labels = batch
        outputs = supernet(images, tokens, training=True)
        return _loss_terms(outputs, labels, self.config.search, supernet, global_batch_size)

    def child_metrics(self, mean_loss, extra_sum, num_steps, global_batch_size):
        """Logged metrics of a chunk of child or retrain steps, from the summed extras."""
        return {
            "loss": mean_loss,
            "accuracy": extra_sum / (tf.cast(num_steps, tf.float32) * global_batch_size),
        }

    def score(self, supernet, batch, tokens):
        """Accuracy of one arc on one validation minibatch (this replica's share)."""
        images, labels = batch
        logits, _ = supernet(images, tokens, training=False)
        return training.accuracy_count(logits, labels) / tf.cast(tf.shape(labels)[0], tf.float32)

    def loss_score(self, supernet, batch, tokens):
        """Mean cross-entropy of one arc on one validation minibatch (derive.rank_by=loss).

        Continuous where accuracy counts images: two candidates a few images apart in
        accuracy usually differ clearly in loss (Ning et al. 2021 rank by it).
        """
        images, labels = batch
        logits, _ = supernet(images, tokens, training=False)
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.cast(labels, tf.int32), logits=tf.cast(logits, tf.float32)
            )
        )

    def reward(self, score):
        """The controller's reward is the validation accuracy itself."""
        return score

    # Retraining the fixed child (`enas_tf.retrain`) --------------------------------------------
    def retrain_steps_per_epoch(self) -> int:
        return self.splits.num_train // self.config.retrain.batch_size

    def build_child(self, arc):
        """The fixed network of `arc` at the retrain size (call inside `strategy.scope()`)."""
        return registry.of(self.config).build_child(
            arc, num_classes=self.splits.num_classes, image_shape=self.retrain_image_shape
        )

    def make_retrain_optimizer(self, steps_per_epoch: int):
        return training.make_child_optimizer(self.config.retrain.optimizer, steps_per_epoch)

    def create_retrain_state(self, strategy) -> None:
        """Images carry nothing between steps."""

    def reset_retrain_state(self) -> None:
        """Images carry nothing between steps."""

    def begin_retrain_epoch(self, child, epoch: int) -> None:
        """Moves the drop-path schedule (micro children) to `epoch`'s point."""
        if hasattr(child, "progress"):
            child.progress.assign(epoch / max(self.config.retrain.epochs, 1))

    def retrain_dataset(self, epoch: int, skip: int):
        """Epoch `epoch` of augmented batches with CutOut (a pure function of seed and epoch)."""
        rt = self.config.retrain
        seed = self.config.seed * 100003 + 7 + epoch
        return self._train_batches(rt.batch_size, seed, skip, cutout=rt.cutout_size)

    def retrain_loss(self, child, batch, global_batch_size: int):
        """(loss averaged over the global batch, variables to decay, correct predictions)."""
        images, labels = batch
        outputs = child(images, training=True)
        return _loss_terms(outputs, labels, self.config.retrain, child, global_batch_size)

    # Whole-split evaluation of the fixed child ----------------------------------------------
    def eval_dataset(self, split: str) -> tf.data.Dataset:
        """Every example of `split` ("valid" or "test"), the last batch padded and weighted."""
        batch_size = self.config.retrain.eval_batch_size
        if self.streamed:
            dataset = image_stream.eval_batches(
                self.splits, split, batch_size=batch_size, drop_remainder=False
            )
            return replicas.pad_final_batch(dataset, batch_size)
        images, labels = self.split_arrays(split)
        dataset = image_data.make_eval_dataset(
            images,
            labels,
            batch_size=batch_size,
            mean=self.splits.channel_mean,
            std=self.splits.channel_std,
            drop_remainder=False,
        )
        return replicas.pad_final_batch(dataset, batch_size)

    def split_arrays(self, split: str):
        """(images, labels) of "valid" or "test"."""
        splits = self.splits
        if split == "valid":
            return splits.valid_images, splits.valid_labels
        return splits.test_images, splits.test_labels

    def eval_sums(self, child, batch):
        """(correct predictions, examples) of this replica's rows; padding rows weigh 0."""
        images, labels, weights = batch
        logits, _ = child(images, training=False)
        return training.accuracy_count(logits, labels, weights), tf.reduce_sum(weights)

    def eval_score(self, total: float, count: float) -> float:
        """Accuracy from summed correct predictions and examples."""
        return total / max(count, 1.0)

    def result_fields(self) -> dict:
        """Extra fields of `retrain/result.json` (none for images)."""
        return {}

    # Export ------------------------------------------------------------------------------------
    def export(self, child, arc, export_root: str, version: int | None = None) -> str:
        """Writes `export_root/<version>/` with the signatures of `image_serving`.

        `serving_default` takes raw pixels (float32 [None, H, W, C], 0..255) and
        `serve_image_bytes` encoded images (`image_bytes`, JPEG/PNG/BMP/GIF strings); both
        return `probabilities`, `classes` and `class_names`. `class_names.txt` beside the
        model lists the names by class index. The graph holds the fixed child only (no `Case`
        ops, no controller).
        """
        splits = self.splits
        resize_mode = str(self.config.data.get("resize_mode", "stretch"))

        def write(staging):
            archive = keras.export.ExportArchive()
            archive.track(child)
            image_serving.add_endpoints(
                archive, child, splits, self.retrain_image_shape, resize_mode
            )
            archive.write_out(staging, verbose=False)
            with open(os.path.join(staging, "class_names.txt"), "w", encoding="utf-8") as f:
                f.write("\n".join(splits.class_names) + "\n")

        return write_version(export_root, arc, write, version)


def _loss_terms(outputs, labels, section, model, global_batch_size: int):
    """(loss, variables to decay, correct predictions) of a model's (logits, aux logits).

    `section` is `config.search` or `config.retrain` (its `aux_weight`, if any, weighs the
    auxiliary head's loss); the loss is averaged over the global batch.
    """
    logits, aux_logits = outputs
    loss = training.classification_loss(
        logits,
        aux_logits,
        labels,
        aux_weight=section.get("aux_weight", 0.0),
        global_batch_size=global_batch_size,
    )
    return loss, model.trainable_variables, training.accuracy_count(logits, labels)

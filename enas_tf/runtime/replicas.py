"""Where replicas and workers meet data and files: input distribution, chief-only writing.

`enas_tf.runtime.strategy` picks the hardware; this module holds the two rules every training loop
follows once a strategy has several replicas or several workers:

* Data. Every pipeline builds **global** batches (the same batches whatever the replica
  count, so a run is reproducible on 1 CPU or 8 TPU cores and a resumed run can skip a
  known number of them) and `distribute_global_batches` hands replica r the r-th slice of
  rows through `strategy.distribute_datasets_from_function`. For a language model this is
  what keeps the hidden state carried: replica r always gets the same rows of the stream.
* Files. Only the chief writes summaries, JSON results, exports and checkpoints.
  MultiWorkerMirroredStrategy needs every worker to call `save` (the variables' values are
  gathered collectively), so `CheckpointManager` saves a non-chief worker's copy to a
  scratch directory and deletes it, and every worker restores from the chief's directory.
"""

from __future__ import annotations

import os
import shutil

import tensorflow as tf
from absl import logging

from enas_tf.errors import CheckpointError, ConfigError, DamagedCheckpointError
from enas_tf.runtime import checkpoints, files


class PipelineBatches:
    """A dataset each input pipeline builds for itself (streamed data, sharded per worker).

    `make(context)` returns the batches of ONE input pipeline: its own part of the data
    (`context.input_pipeline_id` of `context.num_input_pipelines`), `global batch /
    num_input_pipelines` rows each, so a worker reads only its own shards. In-memory data
    builds global batches instead and every pipeline keeps its rows of each.
    """

    def __init__(self, make):
        self.make = make


def distribute_global_batches(strategy: tf.distribute.Strategy, make_dataset):
    """Distributes a dataset of global batches: replica r gets rows [r*b, (r+1)*b).

    Args:
      strategy: the `tf.distribute` strategy.
      make_dataset: no-argument callable returning a dataset whose elements are tensors (or
        tuples of tensors) with a static leading dimension, the global batch size, divisible
        by the number of replicas (config.validate checks the batch sizes); or returning a
        `PipelineBatches`, whose batches are already the pipeline's own rows.

    Returns:
      A distributed dataset; iterate it (or `iter()` it) and pass its elements to
      `strategy.run`.
    """
    num_replicas = strategy.num_replicas_in_sync

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        dataset = make_dataset()
        # Each input pipeline (one per worker) serves its local replicas, in replica order:
        # the strategy hands a pipeline's consecutive elements to its replicas in turn.
        local = num_replicas // context.num_input_pipelines
        if isinstance(dataset, PipelineBatches):
            dataset, first, groups = dataset.make(context), 0, local
        else:
            first, groups = context.input_pipeline_id * local, num_replicas
        if num_replicas == 1:
            return dataset

        def split(tensor):
            per_replica = tensor.shape[0] // groups
            shaped = tf.reshape(tensor, [groups, per_replica, *tensor.shape[1:]])
            return shaped[first : first + local]

        return dataset.flat_map(
            lambda *batch: tf.data.Dataset.from_tensor_slices(
                tf.nest.map_structure(split, batch if len(batch) > 1 else batch[0])
            )
        )

    return strategy.distribute_datasets_from_function(dataset_fn)


def pad_final_batch(dataset: tf.data.Dataset, batch_size: int) -> tf.data.Dataset:
    """Pads a short last batch to `batch_size` rows and adds a 0/1 float `weights` element.

    Whole-split evaluation must score every example, but replicas need equal, static shapes
    (and TPUs need static shapes anyway): the padding rows get weight 0.

    Args:
      dataset: elements are tuples of tensors batched with `drop_remainder=False`.
      batch_size: the global batch size.

    Returns:
      Dataset of `(*element, weights float32 [batch_size])` with static leading dimensions.
    """

    def pad(*batch):
        rows = tf.shape(batch[0])[0]
        padded = []
        for tensor in batch:
            paddings = [[0, batch_size - rows]] + [[0, 0]] * (len(tensor.shape) - 1)
            tensor = tf.pad(tensor, paddings)
            tensor.set_shape([batch_size, *tensor.shape[1:]])
            padded.append(tensor)
        weights = tf.cast(tf.range(batch_size) < rows, tf.float32)
        return (*padded, weights)

    return dataset.map(pad)


def check_divisible(batch_size: int, strategy: tf.distribute.Strategy, key: str) -> None:
    """Refuses a global batch that the replicas cannot share equally.

    Raises:
      ConfigError: naming the config key, the batch size and the replica count.
    """
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ConfigError(
            f"config.{key}={batch_size} is not divisible by the {replicas} replicas of this "
            f"strategy: use a multiple of {replicas}"
        )


def _task(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return None, 0
    return resolver.task_type, int(resolver.task_id or 0)


def is_multi_worker(strategy: tf.distribute.Strategy) -> bool:
    """Whether `strategy` spans several processes (a TF_CONFIG cluster)."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run's files (always, except non-chief workers).

    In a TF_CONFIG cluster the chief is the `chief` task, or worker 0 when there is none.
    TPUStrategy and single-host strategies have one client, which is the chief.
    """
    if not is_multi_worker(strategy):
        return True
    task_type, task_id = _task(strategy)
    if task_type is None or task_type == "chief":
        return True
    cluster = strategy.cluster_resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and "chief" not in cluster


class CheckpointManager:
    """`tf.train.CheckpointManager` for the chief; a throwaway one for other workers.

    Every worker calls `save` (a collective under MultiWorkerMirroredStrategy); only the
    chief's files remain. `latest_checkpoint` is always the chief's, so every worker resumes
    from the same state.
    """

    def __init__(self, keyed_checkpoint, directory: str, strategy, max_to_keep: int = 2):
        """Args:
        keyed_checkpoint: a `checkpoints.KeyedCheckpoint`.
        directory: the chief's checkpoint directory.
        strategy: the `tf.distribute` strategy (who is chief).
        max_to_keep: as `tf.train.CheckpointManager`'s; at least 2, so that a damaged newest
          checkpoint has an older one to fall back to.
        """
        self.keyed, self.directory = keyed_checkpoint, directory
        self.checkpoint = keyed_checkpoint.checkpoint
        self.chief = is_chief(strategy)
        if self.chief:
            self._save_dir = directory
        else:
            _, task_id = _task(strategy)
            self._save_dir = os.path.join(directory, f"_worker{task_id}_scratch")
        self._max_to_keep = max(max_to_keep, 2)
        self._manager = tf.train.CheckpointManager(
            self.checkpoint, self._save_dir, self._max_to_keep
        )

    @property
    def latest_checkpoint(self):
        return tf.train.latest_checkpoint(self.directory)

    def restore(self, path: str, what: str) -> None:
        """Restores `path` after checking it holds this model's variables (`checkpoints`)."""
        self.keyed.restore(path, what)

    def checkpoint_paths(self) -> list[str]:
        """The chief's checkpoints, newest first (read from the files, not the state file)."""
        numbered = []
        for name in (
            tf.io.gfile.listdir(self.directory) if tf.io.gfile.isdir(self.directory) else []
        ):
            stem, _, number = name.removesuffix(".index").rpartition("-")
            if name.endswith(".index") and stem and number.isdigit():
                numbered.append((int(number), os.path.join(self.directory, f"{stem}-{number}")))
        return [path for _, path in sorted(numbered, reverse=True)]

    def check_latest(self, what: str) -> None:
        """Checks that the newest readable checkpoint fits this model, restoring nothing.

        Names and shapes are read from the checkpoint's index (`checkpoints.check_compatible`),
        so a caller can refuse a checkpoint of another model before it writes anything.

        Raises:
          CheckpointError: it belongs to another model (or another size of this one).
        """
        for path in self.checkpoint_paths():
            try:
                checkpoints.check_compatible(
                    path, what, self.keyed.weights, optional=self.keyed.optional
                )
            except DamagedCheckpointError:
                continue  # `restore_latest` falls back past it, and says so
            return

    def restore_latest(self, what: str) -> str | None:
        """Restores the newest intact checkpoint; returns its path (None: there is none).

        A checkpoint whose files cannot be read is skipped with a warning that names it, and
        the next older one is tried (`max_to_keep` >= 2 keeps one). A checkpoint of another
        model is refused at once: an older one would not match either.

        Raises:
          CheckpointError: every checkpoint is damaged (the message says what to delete to
            redo the phase), or they belong to another model.
        """
        paths = self.checkpoint_paths()
        damaged = []
        for path in paths:
            try:
                self.restore(path, what)
            except DamagedCheckpointError as error:
                logging.warning("the %s checkpoint %s is damaged: %s", what, path, error)
                damaged.append(os.path.basename(path))
                continue
            if damaged:
                logging.warning(
                    "%s: restored %s, the newest intact checkpoint (damaged: %s)",
                    what,
                    path,
                    ", ".join(damaged),
                )
            return path
        if damaged:
            phase_dir = os.path.dirname(self.directory.rstrip("/"))
            raise CheckpointError(
                f"every {what} checkpoint in {self.directory} is damaged ({', '.join(damaged)}); "
                f"delete {phase_dir} to redo the {what} from its start, or use another --workdir"
            )
        return None

    def save(self, checkpoint_number: int) -> str:
        """Saves checkpoint `checkpoint_number` (a collective: every worker calls it).

        Raises:
          StorageError: the filesystem refused the write (a full disk, no permission); the
            line names the directory, and the checkpoints saved before are intact, so a
            rerun resumes from the last of them.
        """
        with files.reporting_storage_errors(self._save_dir, "saving a checkpoint"):
            return self._save(checkpoint_number)

    def _save(self, checkpoint_number: int) -> str:
        if self.chief:
            return self._manager.save(checkpoint_number=checkpoint_number)
        # A fresh manager each time: the scratch directory is deleted after every save.
        manager = tf.train.CheckpointManager(self.checkpoint, self._save_dir, self._max_to_keep)
        path = manager.save(checkpoint_number=checkpoint_number)
        shutil.rmtree(self._save_dir, ignore_errors=True)
        return path

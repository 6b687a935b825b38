"""Tests of enas_tf.runtime.replicas: which rows each replica gets, padding, chief-only writing."""

import os

import numpy as np
import pytest
import tensorflow as tf

from enas_tf.errors import CheckpointError, ConfigError, DamagedCheckpointError, StorageError
from enas_tf.runtime import checkpoints, replicas


def _local(strategy, value):
    return [t.numpy() for t in strategy.experimental_local_results(value)]


def test_replica_r_gets_the_r_th_slice_of_every_global_batch(two_replica_strategy):
    strategy = two_replica_strategy
    ids = np.arange(24).reshape(6, 4)  # one global batch of 6 rows: 3 per replica

    def make():
        rows = tf.data.Dataset.from_tensor_slices((ids, ids * 10))
        return rows.batch(6, drop_remainder=True).repeat(2)

    batches = list(replicas.distribute_global_batches(strategy, make))
    assert len(batches) == 2  # one element per global batch, as the steps consume them
    for inputs, targets in batches:
        np.testing.assert_array_equal(_local(strategy, inputs)[0], ids[:3])
        np.testing.assert_array_equal(_local(strategy, inputs)[1], ids[3:])
        np.testing.assert_array_equal(_local(strategy, targets)[1], ids[3:] * 10)


def test_a_single_replica_gets_the_global_batch_unchanged():
    strategy = tf.distribute.get_strategy()
    make = lambda: tf.data.Dataset.from_tensor_slices(np.arange(8)).batch(4)  # noqa: E731
    batches = [b.numpy().tolist() for b in replicas.distribute_global_batches(strategy, make)]
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_pad_final_batch_pads_with_zero_weights_and_static_shapes():
    dataset = tf.data.Dataset.from_tensor_slices((np.ones([5, 2]), np.arange(5))).batch(2)
    padded = list(replicas.pad_final_batch(dataset, 2))
    assert [tuple(w.numpy()) for _, _, w in padded] == [(1, 1), (1, 1), (1, 0)]
    assert padded[-1][1].numpy().tolist() == [4, 0]
    spec = replicas.pad_final_batch(dataset, 2).element_spec
    assert all(s.shape[0] == 2 for s in spec)


def test_check_divisible_names_the_key_and_the_replica_count(two_replica_strategy):
    replicas.check_divisible(16, two_replica_strategy, "search.batch_size")
    with pytest.raises(ConfigError, match=r"config.search.batch_size=15 .* 2 replicas"):
        replicas.check_divisible(15, two_replica_strategy, "search.batch_size")


def test_pipeline_refuses_an_indivisible_batch_before_writing(tmp_path, monkeypatch):
    from configs import tiny
    from enas_tf import pipeline
    from enas_tf.runtime import strategy as strategy_lib

    config = tiny.get_config()
    with config.unlocked():
        config.search.eval_batch_size = 15
    monkeypatch.setattr(
        strategy_lib,
        "create_strategy",
        lambda tpu, cluster_wait_seconds: tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]),
    )
    workdir = tmp_path / "run"
    with pytest.raises(ConfigError, match="search.eval_batch_size=15"):
        pipeline.run(config, str(workdir))
    assert not workdir.exists()


def test_single_host_strategies_are_chief():
    assert replicas.is_chief(tf.distribute.get_strategy())


class _FakeResolver:
    def __init__(self, task_type, task_id, cluster):
        self.task_type, self.task_id, self._cluster = task_type, task_id, cluster

    def cluster_spec(self):
        return tf.train.ClusterSpec(self._cluster)


class _FakeMultiWorker(tf.distribute.MultiWorkerMirroredStrategy):
    """Only what `is_chief` reads; never initialised (no cluster is started)."""

    def __init__(self, task_type, task_id, cluster):  # noqa: D107 (no super().__init__)
        self._resolver = _FakeResolver(task_type, task_id, cluster)

    @property
    def cluster_resolver(self):
        return self._resolver


@pytest.mark.parametrize(
    "task_type,task_id,cluster,chief",
    [
        ("worker", 0, {"worker": ["a:1", "b:1"]}, True),
        ("worker", 1, {"worker": ["a:1", "b:1"]}, False),
        ("chief", 0, {"chief": ["c:1"], "worker": ["a:1"]}, True),
        ("worker", 0, {"chief": ["c:1"], "worker": ["a:1"]}, False),
    ],
)
def test_is_chief_follows_tf_config_rules(task_type, task_id, cluster, chief):
    assert replicas.is_chief(_FakeMultiWorker(task_type, task_id, cluster)) is chief


def test_a_non_chief_saves_to_scratch_and_restores_from_the_chief(tmp_path):
    directory = str(tmp_path / "ckpt")
    variable = tf.Variable(3.0, name="v")
    checkpoint = checkpoints.KeyedCheckpoint({"model": [variable]})
    chief = replicas.CheckpointManager(checkpoint, directory, tf.distribute.get_strategy())
    chief.save(checkpoint_number=7)
    cluster = {"worker": ["a:1", "b:1"]}
    worker = replicas.CheckpointManager(
        checkpoint, directory, _FakeMultiWorker("worker", 1, cluster)
    )
    variable.assign(5.0)
    worker.save(checkpoint_number=8)
    assert sorted(os.listdir(directory)) == [
        "checkpoint",
        "ckpt-7.data-00000-of-00001",
        "ckpt-7.index",
    ]
    assert worker.latest_checkpoint.endswith("ckpt-7")  # the chief's, not its own
    worker.restore(worker.latest_checkpoint, "test")
    assert float(variable) == 3.0


def _truncate(path_prefix):
    (data,) = [
        p
        for p in os.listdir(os.path.dirname(path_prefix))
        if p.startswith(os.path.basename(path_prefix) + ".data-")
    ]
    with open(os.path.join(os.path.dirname(path_prefix), data), "r+b") as f:
        f.truncate(100)


def test_restore_latest_falls_back_to_the_newest_intact_checkpoint(tmp_path, caplog):
    directory = str(tmp_path / "search" / "ckpt")
    variable = tf.Variable(1.0, name="v")
    manager = replicas.CheckpointManager(
        checkpoints.KeyedCheckpoint({"model": [variable]}), directory, tf.distribute.get_strategy()
    )
    assert manager.restore_latest("search") is None  # nothing saved yet
    for number, value in ((3, 3.0), (7, 7.0), (12, 12.0)):
        variable.assign(value)
        manager.save(checkpoint_number=number)
    assert [os.path.basename(p) for p in manager.checkpoint_paths()] == ["ckpt-12", "ckpt-7"]
    _truncate(os.path.join(directory, "ckpt-12"))
    variable.assign(0.0)
    with caplog.at_level("WARNING"):
        restored = manager.restore_latest("search")
    assert restored.endswith("ckpt-7") and float(variable) == 7.0
    assert "ckpt-12 is damaged" in caplog.text and "restored" in caplog.text

    _truncate(os.path.join(directory, "ckpt-7"))
    with pytest.raises(
        CheckpointError,
        match=r"every search checkpoint in .* is damaged \(ckpt-12, "
        r"ckpt-7\); delete .*search to redo the search",
    ):
        manager.restore_latest("search")


def test_restore_latest_refuses_another_model_without_trying_older_ones(tmp_path):
    directory = str(tmp_path / "ckpt")
    saver = replicas.CheckpointManager(
        checkpoints.KeyedCheckpoint({"model": [tf.Variable(1.0, name="v")]}),
        directory,
        tf.distribute.get_strategy(),
    )
    saver.save(checkpoint_number=1)
    saver.save(checkpoint_number=2)
    other = replicas.CheckpointManager(
        checkpoints.KeyedCheckpoint({"model": [tf.Variable(1.0, name="w")]}),
        directory,
        tf.distribute.get_strategy(),
    )
    with pytest.raises(CheckpointError, match="does not match this model") as info:
        other.restore_latest("retrain")
    assert not isinstance(info.value, DamagedCheckpointError)


def test_a_full_disk_while_saving_is_one_line_naming_the_directory(tmp_path, monkeypatch):
    directory = str(tmp_path / "ckpt")
    checkpoint = checkpoints.KeyedCheckpoint({"model": [tf.Variable(3.0, name="v")]})
    manager = replicas.CheckpointManager(checkpoint, directory, tf.distribute.get_strategy())

    def full(**kwargs):  # what TensorFlow's saver raised on a full tmpfs
        raise tf.errors.ResourceExhaustedError(
            None, None, f"{directory}/ckpt-1_temp/part-00000; No space left on device [Op:SaveV2]"
        )

    monkeypatch.setattr(manager._manager, "save", full)
    with pytest.raises(StorageError, match=rf"^{directory}: no space left on device while saving"):
        manager.save(checkpoint_number=1)


def test_check_latest_refuses_another_size_without_restoring(tmp_path):
    directory = str(tmp_path / "ckpt")
    small = tf.Variable(tf.zeros([2, 3]), name="w")
    saved = checkpoints.KeyedCheckpoint({"model": [small]})
    replicas.CheckpointManager(saved, directory, tf.distribute.get_strategy()).save(1)
    large = tf.Variable(tf.ones([2, 4]), name="w")
    manager = replicas.CheckpointManager(
        checkpoints.KeyedCheckpoint({"model": [large]}), directory, tf.distribute.get_strategy()
    )
    with pytest.raises(CheckpointError, match=r"shape \[2, 3\] there but \[2, 4\]"):
        manager.check_latest("retrain")
    np.testing.assert_array_equal(large.numpy(), np.ones([2, 4]))

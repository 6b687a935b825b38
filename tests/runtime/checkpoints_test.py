"""Tests of checkpoints keyed by variable path and their checked restore."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from enas_tf.runtime import checkpoints


def _model(second_layer="b"):
    # Named, as enas_tf's models are: optimizer slot names embed the model's name.
    model = keras.Sequential(
        [keras.layers.Dense(3, name="a"), keras.layers.Dense(2, name=second_layer)], name="net"
    )
    model.build((None, 4))
    return model


def _keyed(model, optimizer=None):
    weights = {"model": model.weights}
    if optimizer is not None:
        weights["optimizer"] = optimizer.variables
    return checkpoints.KeyedCheckpoint(weights, step=tf.Variable(0, dtype=tf.int64))


def test_round_trip_restores_every_value_by_path(tmp_path):
    model = _model()
    optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
    optimizer.build(model.trainable_variables)
    saved = [w.numpy() for w in model.weights]
    path = _keyed(model, optimizer).checkpoint.save(str(tmp_path / "ckpt"))
    # A second optimizer in the same process: Keras gives it another name (`sgd_1`, or a
    # higher number after other tests in this process); the keys below the owner's name
    # still match.
    other = _model()
    other_optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
    other_optimizer.build(other.trainable_variables)
    owner = lambda opt: opt.variables[0].path.split("/")[0]  # noqa: E731
    assert owner(other_optimizer) != owner(optimizer)
    _keyed(other, other_optimizer).restore(path, "test")
    for value, weight in zip(saved, other.weights, strict=True):
        np.testing.assert_array_equal(weight.numpy(), value)


def test_an_old_positional_checkpoint_is_refused_with_what_to_do(tmp_path):
    model = _model()
    path = tf.train.Checkpoint(model=list(model.weights)).save(str(tmp_path / "old"))
    before = [w.numpy() for w in model.weights]
    with pytest.raises(checkpoints.CheckpointError, match="older enas_tf.*new --workdir"):
        _keyed(model).restore(path, "search")
    for value, weight in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(weight.numpy(), value)  # nothing loaded


def test_a_checkpoint_of_another_model_names_the_differing_variables(tmp_path):
    path = _keyed(_model("b")).checkpoint.save(str(tmp_path / "ckpt"))
    with pytest.raises(
        checkpoints.CheckpointError, match=r"2 variables missing from it \(c/bias, c/kernel\)"
    ) as info:
        _keyed(_model("c")).restore(path, "retrain")
    assert "b/kernel" in str(info.value)  # in the checkpoint, not in the model
    assert "retrain checkpoint" in str(info.value)


def test_an_unreadable_checkpoint_is_a_checkpoint_error(tmp_path):
    path = _keyed(_model()).checkpoint.save(str(tmp_path / "ckpt"))
    with open(path + ".index", "wb") as index:
        index.write(b"not an index")
    with pytest.raises(checkpoints.DamagedCheckpointError, match=r"ckpt-1.index .*cannot be read"):
        _keyed(_model()).restore(path, "search")


def test_a_truncated_data_file_is_a_damaged_checkpoint(tmp_path):
    path = _keyed(_model()).checkpoint.save(str(tmp_path / "ckpt"))
    (data,) = tmp_path.glob("ckpt-1.data-*")
    with open(data, "r+b") as f:
        f.truncate(100)  # what a full disk or a killed copy leaves
    with pytest.raises(checkpoints.DamagedCheckpointError, match="cannot be read"):
        _keyed(_model()).restore(path, "retrain")


def test_two_variables_with_one_key_are_refused():
    first, second = tf.Variable(1.0, name="w"), tf.Variable(2.0, name="w")
    with pytest.raises(ValueError, match="share the checkpoint key"):
        checkpoints.keyed([first, second], "model")


def _dropout_model():
    model = keras.Sequential([keras.layers.Dense(8, name="a"), keras.layers.Dropout(0.5)])
    model.build((None, 4))
    return model


def test_random_states_are_saved_so_a_resume_draws_the_same_masks(tmp_path):
    model = _dropout_model()
    keyed = checkpoints.KeyedCheckpoint(
        {"model": model.weights}, random_states=checkpoints.random_states_of(model)
    )
    assert keyed.random_states  # the dropout layer's seed generator
    x = tf.ones([2, 4])
    model(x, training=True)
    path = keyed.checkpoint.save(str(tmp_path / "ckpt"))
    expected = model(x, training=True).numpy()  # what an uninterrupted run draws next
    other = _dropout_model()  # a new process's model: its seed generators have other names
    checkpoints.KeyedCheckpoint(
        {"model": other.weights}, random_states=checkpoints.random_states_of(other)
    ).restore(path, "test")
    np.testing.assert_array_equal(other(x, training=True).numpy(), expected)


def test_a_checkpoint_without_random_states_still_restores(tmp_path, caplog):
    model = _dropout_model()
    path = checkpoints.KeyedCheckpoint({"model": model.weights}).checkpoint.save(
        str(tmp_path / "ckpt")
    )
    other = _dropout_model()
    with caplog.at_level("WARNING"):
        checkpoints.KeyedCheckpoint(
            {"model": other.weights}, random_states=checkpoints.random_states_of(other)
        ).restore(path, "search")
    assert "dropout masks start over" in caplog.text
    for a, b in zip(model.weights, other.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _with_snapshot(model, snapshot):
    return checkpoints.KeyedCheckpoint(
        {"model": model.weights}, optional={"copy": snapshot.weights}
    )


def test_optional_items_are_restored_when_there_and_named_when_absent(tmp_path):
    model, snapshot = _model(), _model()
    with_copy = _with_snapshot(model, snapshot).checkpoint.save(str(tmp_path / "new"))
    without = _keyed(model).checkpoint.save(str(tmp_path / "old"))  # an earlier version's
    other, other_snapshot = _model(), _model()
    keyed = _with_snapshot(other, other_snapshot)
    keyed.restore(with_copy, "test")
    assert keyed.absent == frozenset()
    for a, b in zip(snapshot.weights, other_snapshot.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    untouched = [w.numpy() for w in other_snapshot.weights]
    for weight in other.weights:
        weight.assign(tf.zeros_like(weight))
    keyed = checkpoints.KeyedCheckpoint(
        {"model": other.weights},
        optional={"copy": other_snapshot.weights},
        step=tf.Variable(0, dtype=tf.int64),
    )
    keyed.restore(without, "test")
    assert keyed.absent == {"copy"}
    for a, b in zip(model.weights, other.weights, strict=True):  # the rest is restored
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for value, weight in zip(untouched, other_snapshot.weights, strict=True):
        np.testing.assert_array_equal(weight.numpy(), value)


def test_an_optional_item_of_another_model_is_refused(tmp_path):
    path = _with_snapshot(_model(), _model("b")).checkpoint.save(str(tmp_path / "ckpt"))
    with pytest.raises(checkpoints.CheckpointError, match="does not match this model's copy"):
        _with_snapshot(_model(), _model("c")).restore(path, "search")


def test_a_checkpoint_of_another_size_names_a_variable_and_both_shapes(tmp_path):
    path = _keyed(_model()).checkpoint.save(str(tmp_path / "ckpt"))
    wider = keras.Sequential(
        [keras.layers.Dense(5, name="a"), keras.layers.Dense(2, name="b")], name="net"
    )
    wider.build((None, 4))
    before = [w.numpy() for w in wider.weights]
    with pytest.raises(checkpoints.CheckpointError) as info:
        _keyed(wider).restore(path, "search")
    message = str(info.value)
    assert "holds a model of another size: model variable a/bias has shape [3] there but [5]" in (
        message
    )
    assert "(and 2 more)" in message  # a/kernel and b/kernel differ too
    for value, weight in zip(before, wider.weights, strict=True):
        np.testing.assert_array_equal(weight.numpy(), value)  # nothing loaded

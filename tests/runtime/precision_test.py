"""Tests of mixed bfloat16 precision (the TPU setting), run on CPU as its proxy."""

import keras
import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from configs import tiny
from enas_tf import search as search_lib
from enas_tf.runtime import precision, replicas
from enas_tf.tasks import load_task


def test_auto_is_float32_off_tpu_and_explicit_settings_are_kept():
    strategy = tf.distribute.get_strategy()
    assert precision.resolve("auto", strategy) == "float32"
    assert precision.resolve("mixed_bfloat16", strategy) == "mixed_bfloat16"
    assert precision.resolve("float32", strategy) == "float32"


@pytest.fixture
def mixed_bfloat16():
    name = precision.set_precision("mixed_bfloat16", tf.distribute.get_strategy())
    yield name
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.slow
@pytest.mark.parametrize("space", ["micro", "macro", "rnn"])
def test_search_steps_run_in_bfloat16_with_float32_weights_and_policy_math(
    space, mixed_bfloat16, tmp_path
):
    assert mixed_bfloat16 == "mixed_bfloat16"
    config = ml_collections.ConfigDict(tiny.get_config(f"space={space}").to_dict())
    task = load_task(config)
    strategy = tf.distribute.get_strategy()
    search = search_lib.Search(config, str(tmp_path), strategy, task, jit_compile=False)
    supernet = search.state.supernet
    assert supernet.compute_dtype == "bfloat16"
    # Weights and optimizer state stay float32; so do the controller and its REINFORCE math.
    assert {v.dtype for v in supernet.trainable_variables} == {"float32"}
    assert search.state.controller.compute_dtype == "float32"
    search.task.reset_child_state()
    train = iter(
        replicas.distribute_global_batches(strategy, lambda: search.train_dataset(0, 0).repeat())
    )
    before = [v.numpy().copy() for v in supernet.trainable_variables]
    metrics = search.steps.train_child(train, tf.constant(2))
    stats = search.steps.train_controller(search.valid_iterator(0), tf.constant(1))
    assert metrics["loss"].dtype == tf.float32 and np.isfinite(float(metrics["loss"]))
    assert stats["loss"].dtype == tf.float32 and np.isfinite(float(stats["loss"]))
    changed = [
        not np.array_equal(b, v.numpy())
        for b, v in zip(before, supernet.trainable_variables, strict=True)
    ]
    assert any(changed), "no shared weight was trained"

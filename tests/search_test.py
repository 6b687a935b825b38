"""Tests of the alternating search loop: one trace, XLA compilation, checkpoint/resume."""

import os

import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from configs import tiny
from enas_tf import search as search_lib
from enas_tf.data import images as image_data
from enas_tf.data import text as text_data
from enas_tf.image_task import ImageTask
from enas_tf.lm_task import LmTask


@pytest.fixture(scope="module")
def config():
    return tiny.get_config()


@pytest.fixture(scope="module")
def splits(config):
    return image_data.load_image_splits(config.data)


@pytest.fixture(scope="module", params=["micro", "macro", "rnn"])
def space_config(request):
    """The tiny config of each search space, for the tests every supernet must pass."""
    return tiny.get_config(f"space={request.param}")


def _search(config, splits, workdir, jit_compile=False):
    """A Search on the tiny data of the config's space (`splits` are the image splits)."""
    if config.space == "rnn":
        task = LmTask(config, text_data.load_text_splits(config.data))
    else:
        task = ImageTask(config, splits)
    return search_lib.Search(config, str(workdir), tf.distribute.get_strategy(), task, jit_compile)


def test_child_and_controller_steps_are_traced_once(space_config, splits, tmp_path):
    search = _search(space_config, splits, tmp_path)
    train_iterator = iter(search._train_dataset(epoch=0, skip=0).repeat())
    valid_iterator = search._valid_iterator(shuffle_seed=0)
    weights_before = [w.numpy().copy() for w in search.state.controller.trainable_variables]
    for chunk in (1, 2, 3):
        metrics = search.steps.train_child(train_iterator, tf.constant(chunk))
        assert np.isfinite(float(metrics["loss"]))
    for _ in range(2):
        stats = search.steps.train_controller(valid_iterator)
        score = float(stats[search.task.metric])
        if space_config.space == "rnn":  # perplexity of a barely trained model: near vocab size
            assert 1.0 < score < 10 * search.task.splits.vocab_size
            assert float(stats["reward"]) > 0.0
        else:
            assert 0.0 <= score <= 1.0
    assert int(search.state.child_step) == 6
    assert int(search.state.controller_step) == 2
    # Six child steps with six sampled arcs, two controller updates: one trace each.
    assert search.steps.train_child.experimental_get_tracing_count() == 1
    assert search.steps.child_replica_step.experimental_get_tracing_count() == 1
    assert search.steps.train_controller.experimental_get_tracing_count() == 1
    assert search.steps.reward_replica_step.experimental_get_tracing_count() == 1
    weights_after = search.state.controller.trainable_variables
    assert any(
        not np.allclose(before, after.numpy())
        for before, after in zip(weights_before, weights_after, strict=True)
    ), "the controller update changed no weight"


def test_controller_sampling_and_policy_gradient_compile_with_xla(space_config):
    controller = search_lib.build_controller(space_config)

    @tf.function(jit_compile=True)
    def sample_and_grad(seed):
        with tf.GradientTape() as tape:
            tokens, log_prob, entropy = controller.sample(seed)
        return tokens, tape.gradient(log_prob, controller.trainable_variables)

    tokens, grads = sample_and_grad(tf.constant([1, 2]))
    assert tokens.dtype == tf.int32
    assert all(np.all(np.isfinite(g.numpy())) for g in grads)
    # Same seed, same arc, compiled or not (stateless sampling).
    eager_tokens, _, _ = controller.sample(tf.constant([1, 2]))
    np.testing.assert_array_equal(tokens.numpy(), eager_tokens.numpy())


def test_child_and_controller_steps_compile_with_xla(space_config, splits, tmp_path):
    # The TPU proxy (DESIGN.md rule 8). Compile time grows with the number of switch branches:
    # micro cells of one computed node (every op, input and reduction path still present)
    # compile in ~2 minutes on 2 CPU cores, twice that with the tiny config's two nodes.
    config = space_config
    if config.space == "micro":
        config = ml_collections.ConfigDict(config.to_dict())
        config.search.model.num_nodes = 1
    search = _search(config, splits, tmp_path, jit_compile=True)
    train_iterator = iter(search._train_dataset(epoch=0, skip=0).repeat())
    metrics = search.steps.train_child(train_iterator, tf.constant(2))
    stats = search.steps.train_controller(search._valid_iterator(shuffle_seed=0))
    # jit_compile=True means must-compile: an op XLA cannot compile raises instead of falling
    # back to the TensorFlow executor.
    assert np.isfinite(float(metrics["loss"]))
    assert np.isfinite(float(stats["loss"]))
    assert search.steps.child_replica_step.experimental_get_tracing_count() == 1


def test_rerun_resumes_mid_epoch_and_finishes_at_the_expected_step(splits, tmp_path):
    # The loop and its checkpoints are the same for every space; the macro tiny config is the
    # fastest to run two whole epochs of.
    config = tiny.get_config("space=macro")
    steps_per_epoch = (len(splits.train_labels)) // config.search.batch_size
    first = _search(config, splits, tmp_path)
    first.run(max_child_steps=3)
    assert int(first.state.child_step) == 3
    assert int(first.state.epoch) == 0
    baseline = float(first.state.baseline)

    second = _search(config, splits, tmp_path)
    assert second.restore()
    assert int(second.state.child_step) == 3
    assert float(second.state.baseline) == baseline
    second.run()
    expected_child_steps = config.search.epochs * steps_per_epoch
    assert int(second.state.child_step) == expected_child_steps
    assert int(second.state.controller_step) == (
        config.search.epochs * config.search.controller.train_steps
    )
    assert int(second.state.epoch) == config.search.epochs
    latest = tf.train.latest_checkpoint(os.path.join(tmp_path, "search", "ckpt"))
    assert latest.endswith(f"ckpt-{expected_child_steps}")
    assert second.done

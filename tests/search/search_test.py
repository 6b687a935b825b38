"""Tests of the alternating search loop: one trace, XLA compilation, checkpoint/resume."""

import os

import keras
import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from configs import tiny
from enas_tf import search as search_lib
from enas_tf.data import images as image_data
from enas_tf.data import text as text_data
from enas_tf.runtime import replicas
from enas_tf.tasks.image import ImageTask
from enas_tf.tasks.language_model import LmTask


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
    # The TPU proxy (docs/DESIGN.md rule 8). Compile time grows with the number of distinct switch
    # functions (shared by every cell, node and side of a shape since issue #12): building the
    # tiny micro search, compiling and running both steps took 39 s on 2 CPU cores.
    search = _search(space_config, splits, tmp_path, jit_compile=True)
    train_iterator = iter(search.train_dataset(epoch=0, skip=0).repeat())
    metrics = search.steps.train_child(train_iterator, tf.constant(2))
    stats = search.steps.train_controller(search.valid_iterator(shuffle_seed=0), tf.constant(1))
    # jit_compile=True means must-compile: an op XLA cannot compile raises instead of falling
    # back to the TensorFlow executor.
    assert np.isfinite(float(metrics["loss"]))
    assert np.isfinite(float(stats["loss"]))
    assert search.steps.child_replica_step.experimental_get_tracing_count() == 1


def test_rerun_resumes_mid_epoch_and_finishes_at_the_expected_step(splits, tmp_path):
    # The loop and its checkpoints are the same for every space; the macro tiny config with 3
    # layers (still pooling twice) is the fastest to run two whole epochs of.
    config = ml_collections.ConfigDict(tiny.get_config("space=macro").to_dict())
    config.search.model.num_layers = 3
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
    # The controller's rewards and every epoch's check ran one traced supernet forward.
    assert second.steps.replica_score.experimental_get_tracing_count() == 1


# Distribution (docs/DESIGN.md: MirroredStrategy on 2 logical CPUs) -------------------------------
def _mirrored_search(config, splits, workdir, arc_sampling, strategy):
    config = ml_collections.ConfigDict(config.to_dict())
    config.search.arc_sampling = arc_sampling
    if config.space == "rnn":
        task = LmTask(config, text_data.load_text_splits(config.data))
    else:
        task = ImageTask(config, splits)
    return search_lib.Search(config, str(workdir), strategy, task, jit_compile=False)


def _replica_values(strategy, variable):
    """Each replica's copy of a variable (Keras 3 wraps the distributed tf.Variable)."""
    if isinstance(variable, keras.Variable):
        variable = variable.value
    return [v.numpy() for v in strategy.experimental_local_results(variable)]


def _replica_arcs_function(search):
    """The arcs each replica's steps route for a step seed: the steps' own sampling
    (`replica_seed`, then the controller), traced without the rest of the step (that the
    supernet routes by its arc is tested per space elsewhere)."""
    strategy, state, steps = search.strategy, search.state, search.steps

    @tf.function
    def replica_arcs(seed):
        return strategy.run(lambda s: state.controller.sample(steps.replica_seed(s))[0], (seed,))

    return replica_arcs


def _assert_routes_as_configured(search, arc_sampling):
    replica_arcs = _replica_arcs_function(search)
    routed = []
    for _ in range(3):
        tokens = replica_arcs(search.state.generator.make_seeds(1)[:, 0])
        routed.append([t.numpy() for t in search.strategy.experimental_local_results(tokens)])
    same = [np.array_equal(first, second) for first, second in routed]
    if arc_sampling == "shared":
        assert all(same), "shared sampling gave the replicas different arcs"
    else:
        assert not any(same), "per-replica sampling gave both replicas the same arc"


# `arc_sampling` changes one thing in the steps: the seed each replica samples its arc from
# (`SearchSteps.replica_seed`). The whole steps run below under per-replica sampling (the
# default, where the replicas train different children) for every space, and under shared
# sampling for the quickest space; here the shared sampling's routing for the other two.
@pytest.mark.parametrize("space", ["micro", "macro"])
def test_mirrored_shared_arc_sampling_gives_every_replica_the_same_arc(
    space, splits, tmp_path, two_replica_strategy
):
    config = tiny.get_config(f"space={space}")
    search = _mirrored_search(config, splits, tmp_path, "shared", two_replica_strategy)
    assert search.strategy.num_replicas_in_sync == 2
    _assert_routes_as_configured(search, "shared")


@pytest.mark.parametrize(
    ("space", "arc_sampling"),
    [("micro", "per_replica"), ("macro", "per_replica"), ("rnn", "per_replica"), ("rnn", "shared")],
)
def test_mirrored_search_steps_keep_replicas_identical(
    space, splits, tmp_path, arc_sampling, two_replica_strategy
):
    space_config = tiny.get_config(f"space={space}")
    search = _mirrored_search(space_config, splits, tmp_path, arc_sampling, two_replica_strategy)
    strategy, state, steps = search.strategy, search.state, search.steps
    assert strategy.num_replicas_in_sync == 2
    search.task.reset_child_state()
    train_iterator = iter(
        replicas.distribute_global_batches(
            strategy, lambda: search.train_dataset(epoch=0, skip=0).repeat()
        )
    )
    _assert_routes_as_configured(search, arc_sampling)
    # The multi-step loop and the controller updates, as the search runs them.
    controller_before = [v.numpy().copy() for v in state.controller.trainable_variables]
    valid_iterator = search.valid_iterator(shuffle_seed=0)
    for chunk in (1, 2):
        metrics = steps.train_child(train_iterator, tf.constant(chunk))
        assert np.isfinite(float(metrics["loss"]))
        stats = steps.train_controller(valid_iterator, tf.constant(chunk))
        assert np.isfinite(float(stats["loss"]))
        score = float(stats[search.task.metric])
        if space_config.space == "rnn":  # perplexity of a barely trained model: near vocab size
            assert 1.0 < score < 10 * search.task.splits.vocab_size
            assert float(stats["reward"]) > 0.0
        else:
            assert 0.0 <= score <= 1.0
    assert state.child_step.numpy() == 3 and state.controller_step.numpy() == 3
    # Three child steps in calls of 1 and 2 steps, three controller updates: one trace
    # of each loop function (docs/DESIGN.md rule 1). Under MirroredStrategy the per-replica step is
    # traced into the loop's graph, once per replica, and has no trace count of its own.
    assert steps.train_child.experimental_get_tracing_count() == 1
    assert steps.train_controller.experimental_get_tracing_count() == 1
    assert any(
        not np.allclose(before, after.numpy())
        for before, after in zip(
            controller_before, state.controller.trainable_variables, strict=True
        )
    ), "the controller updates changed no weight"
    # The shared weights (all-reduced gradients) and the controller stay identical per replica.
    for variable in state.supernet.trainable_variables + state.controller.trainable_variables:
        first, second = _replica_values(strategy, variable)
        np.testing.assert_array_equal(first, second, err_msg=variable.name)
    first, second = _replica_values(strategy, state.baseline)
    assert first == second != 0.0
    # The controller's rewards traced the supernet's forward once per replica device (each
    # trace reads that replica's weights); the check's evaluation reuses those traces.
    assert steps.replica_score.experimental_get_tracing_count() == 2
    tokens = state.controller.sample(tf.constant([5, 6]))[0]
    score = float(steps.evaluate_arc(next(valid_iterator), tokens))
    assert np.isfinite(score)
    assert steps.replica_score.experimental_get_tracing_count() == 2

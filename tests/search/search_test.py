"""Tests of the alternating search loop: one trace, XLA compilation, checkpoint/resume."""

import dataclasses
import os
import types

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
from enas_tf.search import check as search_check
from enas_tf.search import reports as search_reports
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


# The initial policy (issue #24): the check's third comparison ---------------------------------
def _macro3_config():
    """The quickest search to build: the tiny macro space with 3 layers."""
    config = ml_collections.ConfigDict(tiny.get_config("space=macro").to_dict())
    config.search.model.num_layers = 3
    return config


def _values(variables):
    return [v.numpy().copy() for v in variables]


def _assert_values_equal(expected, variables):
    assert len(expected) == len(variables)
    for value, variable in zip(expected, variables, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value, err_msg=variable.path)


def _small_check(search, initial_seed=3):
    """A 2-arc check on one validation minibatch (as `Search.run_check`, without reports)."""
    return search_check.policy_vs_random(
        search.steps,
        search.check_batches(shuffle_seed=0, num_batches=1),
        num_arcs=2,
        policy_seed=1,
        random_seed=2,
        with_policy=True,
        data="1 minibatch",
        initial_seed=initial_seed,
    )


@pytest.mark.slow
def test_the_initial_policy_is_the_starting_controller_and_never_trains(splits, tmp_path):
    search = _search(_macro3_config(), splits, tmp_path)
    state = search.state
    start = _values(state.controller.weights)
    _assert_values_equal(start, state.initial_controller.weights)
    assert not state.initial_controller.trainable_weights
    before = _small_check(search)
    search.steps.train_controller(search.valid_iterator(shuffle_seed=0), tf.constant(2))
    assert any(
        not np.array_equal(value, variable.numpy())
        for value, variable in zip(start, state.controller.weights, strict=True)
    ), "the controller updates changed no weight"
    _assert_values_equal(start, state.initial_controller.weights)
    # Same seed, same (unchanged) snapshot and shared weights: the same arcs and scores.
    after = _small_check(search)
    assert after.initial is not None and after.initial.scores == before.initial.scores
    assert "vs initial policy" in after.summary()


@pytest.mark.slow
def test_a_resumed_search_compares_with_the_same_initial_policy(splits, tmp_path):
    config = _macro3_config()
    first = _search(config, splits, tmp_path)
    start = _values(first.state.initial_controller.weights)
    first.steps.train_controller(first.valid_iterator(shuffle_seed=0), tf.constant(1))
    first._save()
    second = _search(config, splits, tmp_path)
    for variable in second.state.initial_controller.weights:  # not what the first started from
        variable.assign(tf.zeros_like(variable))
    assert second.restore()
    _assert_values_equal(start, second.state.initial_controller.weights)
    _assert_values_equal(_values(first.state.controller.weights), second.state.controller.weights)


@pytest.mark.slow
def test_a_checkpoint_without_the_initial_policy_resumes_with_one_warning(splits, tmp_path, caplog):
    config = _macro3_config()
    first = _search(config, splits, tmp_path)
    first.steps.train_controller(first.valid_iterator(shuffle_seed=0), tf.constant(1))
    first.state.child_step.assign(3)
    # What the search saved before it kept the initial policy.
    old = dataclasses.replace(first.state, initial_controller=None).checkpoint()
    directory = os.path.join(tmp_path, "search", "ckpt")
    tf.train.CheckpointManager(old.checkpoint, directory, 2).save(checkpoint_number=3)
    second = _search(config, splits, tmp_path)
    with caplog.at_level("WARNING"):
        assert second.restore()
    warnings = [r for r in caplog.records if "initial policy" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
    assert int(second.state.child_step) == 3
    _assert_values_equal(_values(first.state.controller.weights), second.state.controller.weights)
    # The check compares with random arcs only (not with the current or a fresh controller).
    result = _small_check(second)
    assert result.initial is None and "initial policy 0" not in result.summary()
    # Later checkpoints leave the unknown snapshot out, so a later resume warns again.
    second.state.child_step.assign(4)
    second._save()
    latest = tf.train.latest_checkpoint(directory)
    assert latest.endswith("ckpt-4")
    assert not any(
        name.startswith("initial_controller") for name, _ in tf.train.list_variables(latest)
    )
    assert any(name.startswith("controller/") for name, _ in tf.train.list_variables(latest))


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
@pytest.mark.slow
@pytest.mark.parametrize("space", ["micro", "macro"])
def test_mirrored_shared_arc_sampling_gives_every_replica_the_same_arc(
    space, splits, tmp_path, two_replica_strategy
):
    config = tiny.get_config(f"space={space}")
    search = _mirrored_search(config, splits, tmp_path, "shared", two_replica_strategy)
    assert search.strategy.num_replicas_in_sync == 2
    _assert_routes_as_configured(search, "shared")


@pytest.mark.slow
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
    # The shared weights (all-reduced gradients), the controller and its initial policy stay
    # identical per replica.
    for variable in (
        state.supernet.trainable_variables
        + state.controller.trainable_variables
        + state.initial_controller.weights
    ):
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


# Issue #24's levers: uniform warm-up, group baseline, one reward minibatch per update ------
@pytest.mark.slow
def test_warmup_epochs_train_uniform_children_and_leave_the_controller_alone(splits, tmp_path):
    # Warm-up epoch 1: uniform children and no controller update (the weights stay the
    # starting ones); epoch 2: the policy's children and the configured updates, with the
    # group baseline on one validation minibatch per update. One search for both (time).
    config = ml_collections.ConfigDict(tiny.get_config().to_dict())
    config.search.controller.warmup_epochs = 1
    config.search.controller.baseline = "group"
    config.search.controller.reward_batch = "per_update"
    config.search.controller.num_aggregate = 2
    config.search.check.every_epochs = 3  # more than the 2 epochs: the last one still checks
    search = _search(config, splits, tmp_path)
    steps = search.steps
    start = _values(search.state.controller.trainable_variables)
    steps_per_epoch = len(splits.train_labels) // config.search.batch_size
    search.run(max_child_steps=steps_per_epoch + 1)  # epoch 1 done, one step into epoch 2
    assert int(search.state.epoch) == 1
    assert int(search.state.controller_step) == 0
    _assert_values_equal(start, search.state.controller.trainable_variables)

    # Which sampler the child step uses, by epoch (the next run() restores the checkpoint).
    batch = next(iter(search.train_dataset(epoch=0, skip=0)))

    def trained_and_expected(seed, sampler):
        seed = tf.constant([seed, 7])
        tokens = steps.child_replica_step(seed, batch)[3].numpy()
        return tokens, sampler(steps.replica_seed(seed)).numpy()

    differs_from_uniform = False
    for seed in range(3):  # epoch 1, after the warm-up: the controller's samples
        tokens, policy = trained_and_expected(seed, lambda s: search.state.controller.sample(s)[0])
        np.testing.assert_array_equal(tokens, policy)
        differs_from_uniform |= not np.array_equal(
            tokens, steps.uniform.sample(steps.replica_seed(tf.constant([seed, 7]))).numpy()
        )
    assert differs_from_uniform  # the two samplers really are different draws
    search.state.epoch.assign(0)
    for seed in range(3):  # epoch 0, a warm-up epoch: uniform children
        tokens, uniform = trained_and_expected(seed, steps.uniform.sample)
        np.testing.assert_array_equal(tokens, uniform)

    search.run()
    assert int(search.state.controller_step) == (
        (config.search.epochs - 1) * config.search.controller.train_steps
    )
    moved = [
        not np.array_equal(a, b.numpy())
        for a, b in zip(start, search.state.controller.trainable_variables, strict=True)
    ]
    assert any(moved)
    # The group baseline records the last update's mean reward: a finite accuracy in [0, 1].
    assert 0.0 <= float(search.state.baseline) <= 1.0
    assert [c["epoch"] for c in search_reports.read_checks(str(tmp_path))] == [2]


def test_child_sampling_uniform_trains_uniform_children_after_the_warm_up():
    # search.child_sampling=uniform: the child step draws from the uniform sampler in every
    # epoch, and never runs the controller's (which would train the shared weights on the
    # policy's preferences); the default draws from the controller after the warm-up.
    config = ml_collections.ConfigDict(tiny.get_config().to_dict())
    config.search.controller.warmup_epochs = 1

    def controller_sample(seed):
        return (tf.fill([3], 7), None)

    def owner(child_sampling, epoch):
        config.search.child_sampling = child_sampling
        return types.SimpleNamespace(
            config=config,
            uniform=types.SimpleNamespace(sample=lambda seed: tf.fill([3], int(seed[0]))),
            state=types.SimpleNamespace(
                controller=types.SimpleNamespace(sample=controller_sample),
                epoch=tf.constant(epoch),
            ),
            replica_seed=lambda seed: seed,
        )

    child_arc = search_lib.steps.SearchSteps._child_arc
    seed = tf.constant([4, 9])
    for epoch in (0, 1, 5):
        np.testing.assert_array_equal(child_arc(owner("uniform", epoch), seed), [4, 4, 4])
    np.testing.assert_array_equal(child_arc(owner("policy", 0), seed), [4, 4, 4])  # warm-up
    np.testing.assert_array_equal(child_arc(owner("policy", 5), seed), [7, 7, 7])


def test_loss_scores_are_the_mean_cross_entropy_of_the_arcs_logits():
    # derive.rank_by=loss ranks candidates by these: the image task's mean cross-entropy, and
    # the language model's, whose exp is the perplexity the task scores by.
    logits = tf.constant([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    labels = tf.constant([0, 1], tf.int64)
    rows = logits.numpy()
    expected = np.mean([-np.log(np.exp(rows[i, i]) / np.exp(rows[i]).sum()) for i in (0, 1)])
    image_supernet = lambda images, tokens, training: (logits, None)  # noqa: E731
    loss = ImageTask.loss_score(None, image_supernet, (tf.zeros([2, 4, 4, 3]), labels), None)
    assert float(loss) == pytest.approx(expected, rel=1e-5)

    owner = types.SimpleNamespace(
        config=ml_collections.ConfigDict({"search": {"model": {"hidden_size": 3}}})
    )
    lm_logits = tf.reshape(tf.tile(logits, [2, 1]), [2, 2, 3])
    lm_supernet = lambda inputs, state, tokens, training: (lm_logits, state)  # noqa: E731
    batch = (tf.zeros([2, 2], tf.int32), tf.constant([[0, 1], [0, 1]], tf.int32))
    lm_loss = LmTask.loss_score(owner, lm_supernet, batch, None)
    assert float(lm_loss) == pytest.approx(expected, rel=1e-5)
    assert float(tf.exp(lm_loss)) == pytest.approx(
        float(LmTask.score(owner, lm_supernet, batch, None)), rel=1e-5
    )


def test_checks_run_every_every_epochs_and_after_the_last_epoch():
    config = ml_collections.ConfigDict(tiny.get_config().to_dict())
    config.search.epochs, config.search.check.every_epochs = 5, 2
    owner = types.SimpleNamespace(config=config)
    due = [e + 1 for e in range(5) if search_lib.Search.check_due(owner, e)]
    assert due == [2, 4, 5]

"""Tests of retraining a fixed child (images and language model) on one or two replicas.

The pipeline tests run retraining end to end; these check the step functions themselves:
XLA compilation of the multi-step loop (the TPU proxy), replicas that stay identical under
MirroredStrategy, and whole-split evaluation that counts every example exactly once when
the last batch is padded and the rows are shared among replicas.
"""

import math

import keras
import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from configs import tiny
from enas_tf.data import text as text_data
from enas_tf.retrain import Retrain
from enas_tf.runtime import replicas
from enas_tf.spaces import registry
from enas_tf.tasks import load_task


@pytest.fixture(scope="module", params=["micro", "macro", "rnn"])
def space_config(request):
    config = ml_collections.ConfigDict(tiny.get_config(f"space={request.param}").to_dict())
    # Evaluation batches that do not divide the splits: the last one is padded.
    config.retrain.eval_batch_size = 6 if config.space == "rnn" else 12
    return config


def _retrain(config, strategy, workdir, jit_compile=False):
    """(Retrain of a random arc, its data splits)."""
    arc = registry.of(config).sample_random_arc(np.random.default_rng(3))
    task = load_task(config)
    return Retrain(config, str(workdir), strategy, task, arc, jit_compile), task.splits


def _train_iterator(retrain):
    dataset = retrain.train_dataset(epoch=0).repeat()
    return iter(replicas.distribute_global_batches(retrain.strategy, lambda: dataset))


@pytest.mark.slow
def test_retrain_steps_compile_with_xla_in_the_multi_step_loop(space_config, tmp_path):
    retrain, splits = _retrain(space_config, tf.distribute.get_strategy(), tmp_path, True)
    iterator = _train_iterator(retrain)
    retrain.task.reset_retrain_state()
    loss = retrain.train_steps(iterator, tf.constant(3))["loss"]
    # jit_compile=True is must-compile: an op XLA cannot compile raises.
    assert np.isfinite(float(loss))
    assert retrain.step.numpy() == 3
    assert retrain.train_replica_step.experimental_get_tracing_count() == 1
    assert retrain.train_steps.experimental_get_tracing_count() == 1


def _expected_accuracy_range(child, images, labels, splits):
    """(lowest, highest) accuracy of one eager pass, over near-ties of the top two logits.

    A barely trained child has near-equal logits; another batch split can round them apart
    differently, so an example whose top two logits are within 1e-4 may go either way.
    """
    standardised = (images.astype("float32") - splits.channel_mean) / splits.channel_std
    logits, _ = child(standardised, training=False)
    logits = logits.numpy()
    top2 = np.sort(logits, axis=-1)[:, -2:]
    tied = (top2[:, 1] - top2[:, 0]) < 1e-4
    right = np.argmax(logits, axis=-1) == labels
    return float(np.mean(right & ~tied)), float(np.mean(right | tied))


def _expected_perplexity(child, ids, config):
    rt = config.retrain
    inputs, targets = text_data.bptt_batches(ids, rt.eval_batch_size, rt.bptt)
    state, total, count = child.zero_state(rt.eval_batch_size), 0.0, 0
    for x, y in zip(inputs, targets, strict=True):
        logits, state = child(x, state, training=False)
        xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
        total, count = total + float(tf.reduce_sum(xent)), count + y.size
    return math.exp(total / count)


@pytest.mark.slow
def test_two_replicas_train_identically_and_evaluate_every_example_once(
    space_config, tmp_path, two_replica_strategy
):
    strategy = two_replica_strategy
    retrain, splits = _retrain(space_config, strategy, tmp_path)
    iterator = _train_iterator(retrain)
    retrain.task.reset_retrain_state()
    retrain.train_steps(iterator, tf.constant(2))
    assert retrain.step.numpy() == 2
    # Every variable, batch-norm moving statistics and random-seed state included.
    for variable in retrain.child.variables:
        value = variable.value if isinstance(variable, keras.Variable) else variable
        first, second = (v.numpy() for v in strategy.experimental_local_results(value))
        np.testing.assert_array_equal(first, second, err_msg=variable.name)
    # Whole-split evaluation through both replicas equals one eager pass over the split.
    if space_config.space == "rnn":
        expected = _expected_perplexity(retrain.child, splits.valid, space_config)
        np.testing.assert_allclose(retrain.evaluate("valid"), expected, rtol=1e-4)
    else:
        images, labels = splits.valid_images, splits.valid_labels
        assert len(labels) % space_config.retrain.eval_batch_size  # a padded last batch
        lowest, highest = _expected_accuracy_range(retrain.child, images, labels, splits)
        assert lowest - 1e-6 <= retrain.evaluate("valid") <= highest + 1e-6

"""Tests for enas_tf.training: the clipped update really is clipped, losses, l2, schedule."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from ml_collections import ConfigDict

from enas_tf import training


def _optim(**overrides):
    values = dict(lr_max=0.05, lr_min=0.001, t0=2, t_mul=2, momentum=0.9, l2=1e-4, grad_clip=5.0)
    values.update(overrides)
    return ConfigDict(values)


def test_apply_clipped_gradients_applies_the_clipped_update():
    variable = tf.Variable([0.0, 0.0])
    optimizer = keras.optimizers.SGD(learning_rate=1.0)  # no momentum: update == -lr * grad
    norm = training.apply_clipped_gradients(
        optimizer, [tf.constant([30.0, 40.0])], [variable], clip_norm=5.0
    )
    assert float(norm) == pytest.approx(50.0)
    np.testing.assert_allclose(variable.numpy(), [-3.0, -4.0], rtol=1e-6)  # norm 5, not 50


@pytest.mark.parametrize(
    "shares,expected_norm,update",
    [
        # Each replica's share within the bound, the sum beyond it: the sum is clipped.
        (([3.0, 0.0], [3.0, 0.0]), 6.0, [-5.0, 0.0]),
        # Below the bound: the summed gradient is applied unchanged.
        (([1.0, 0.0], [0.0, 2.0]), 5.0**0.5, [-1.0, -2.0]),
    ],
)
def test_two_replicas_clip_and_apply_the_summed_gradient(
    two_replica_strategy, shares, expected_norm, update
):
    strategy = two_replica_strategy
    with strategy.scope():
        variable = tf.Variable([0.0, 0.0])
        optimizer = keras.optimizers.SGD(learning_rate=1.0)
        optimizer.build([variable])

    @tf.function
    def step():
        def replica():
            index = tf.distribute.get_replica_context().replica_id_in_sync_group
            grad = tf.gather(tf.constant(shares), index)
            return training.apply_clipped_gradients(optimizer, [grad], [variable], 5.0)

        return strategy.run(replica)

    norms = strategy.experimental_local_results(step())
    assert [float(n) for n in norms] == pytest.approx([expected_norm] * 2)
    for copy in strategy.experimental_local_results(variable):
        np.testing.assert_allclose(copy.numpy(), update, rtol=1e-6)


def test_apply_clipped_gradients_keeps_small_gradients_and_fills_none():
    a, b = tf.Variable([1.0]), tf.Variable([2.0])
    optimizer = keras.optimizers.SGD(learning_rate=0.5)
    training.apply_clipped_gradients(optimizer, [tf.constant([1.0]), None], [a, b], clip_norm=5.0)
    np.testing.assert_allclose(a.numpy(), [0.5])
    np.testing.assert_allclose(b.numpy(), [2.0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_gradient_leaves_the_weights_unchanged(bad):
    variable = tf.Variable([1.0, 2.0])
    optimizer = keras.optimizers.SGD(learning_rate=1.0)
    norm = training.apply_clipped_gradients(
        optimizer, [tf.constant([bad, 1.0])], [variable], clip_norm=5.0
    )
    assert not np.isfinite(float(norm))
    np.testing.assert_allclose(variable.numpy(), [1.0, 2.0])
    training.apply_clipped_gradients(optimizer, [tf.constant([1.0, 0.0])], [variable], 5.0)
    np.testing.assert_allclose(variable.numpy(), [0.0, 2.0])  # the next finite step applies


def test_lm_schedule_decays_after_epoch_15():
    schedule = training.DecayAfterEpoch(20.0, 0.96, start_epoch=15, steps_per_epoch=10)
    lrs = [float(schedule(epoch * 10)) for epoch in (0, 14, 15, 16)]
    np.testing.assert_allclose(lrs, [20.0, 20.0, 20.0 * 0.96, 20.0 * 0.96**2], rtol=1e-6)
    assert float(schedule(159)) == pytest.approx(20.0 * 0.96)  # last step of epoch 15


def test_cosine_warm_restarts_follow_the_paper_schedule():
    schedule = training.make_lr_schedule(_optim(), steps_per_epoch=10)
    assert float(schedule(0)) == pytest.approx(0.05)
    assert float(schedule(19)) == pytest.approx(0.001, abs=2e-3)  # end of the first T0=2 epochs
    assert float(schedule(20)) == pytest.approx(0.05)  # restart
    assert float(schedule(20 + 39)) < 0.003  # second period is twice as long (Tmul=2)
    assert float(schedule(20 + 20)) > 0.02
    optimizer = training.make_child_optimizer(_optim(), steps_per_epoch=10)
    assert optimizer.nesterov and optimizer.momentum == pytest.approx(0.9)
    assert training.current_learning_rate(optimizer) == pytest.approx(0.05)


def test_l2_penalty_counts_kernels_only():
    kernel, bias = tf.Variable(tf.ones([2, 3])), tf.Variable(tf.ones([3]))
    assert float(training.l2_penalty([kernel, bias])) == pytest.approx(6.0)


def test_classification_loss_uses_global_batch_and_aux_weight():
    logits = tf.zeros([4, 10])
    labels = tf.constant([0, 1, 2, 3])
    per_example = np.log(10.0)
    loss = training.classification_loss(logits, None, labels, aux_weight=0.4, global_batch_size=8)
    assert float(loss) == pytest.approx(per_example * 4 / 8, rel=1e-5)
    with_aux = training.classification_loss(
        logits, logits, labels, aux_weight=0.4, global_batch_size=4
    )
    assert float(with_aux) == pytest.approx(per_example * 1.4, rel=1e-5)


def test_accuracy_count():
    logits = tf.constant([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert float(training.accuracy_count(logits, tf.constant([0, 1, 1]))) == 2.0

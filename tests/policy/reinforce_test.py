"""Tests for enas_tf.policy.reinforce: baseline, loss sign, reward shaping, skip KL, optimizer."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from enas_tf.policy import reinforce


def test_update_baseline_moves_towards_reward():
    np.testing.assert_allclose(reinforce.update_baseline(0.5, 1.0, 0.9).numpy(), 0.55)
    np.testing.assert_allclose(reinforce.update_baseline(0.5, 0.5, 0.99).numpy(), 0.5)
    baseline = tf.Variable(0.0)
    for _ in range(500):
        baseline.assign(reinforce.update_baseline(baseline, 2.0, 0.99))
    np.testing.assert_allclose(baseline.numpy(), 2.0 * (1 - 0.99**500), rtol=1e-4)


def test_baseline_before_advantage_keeps_sign():
    # Updating first (the authors' order) scales the advantage by `decay`: R - b' = d (R - b).
    reward, baseline, decay = 0.8, 0.6, 0.95
    new_baseline = reinforce.update_baseline(baseline, reward, decay)
    np.testing.assert_allclose((reward - new_baseline).numpy(), decay * (reward - baseline))


def test_reinforce_loss_gradient_sign():
    log_prob = tf.Variable(-2.0)
    reward, baseline = tf.Variable(0.9), tf.Variable(0.5)
    with tf.GradientTape(persistent=True) as tape:
        loss = reinforce.reinforce_loss(log_prob, reward, baseline)
    np.testing.assert_allclose(loss.numpy(), 0.8, rtol=1e-6)
    # Descent on the loss raises log_prob when the reward beats the baseline ...
    np.testing.assert_allclose(tape.gradient(loss, log_prob).numpy(), -0.4, rtol=1e-6)
    # ... and no gradient flows into the reward or the baseline.
    assert tape.gradient(loss, reward) is None and tape.gradient(loss, baseline) is None
    with tf.GradientTape() as tape:
        loss = reinforce.reinforce_loss(log_prob, 0.1, 0.5)
    assert tape.gradient(loss, log_prob).numpy() > 0


def test_shaped_reward_adds_constant_entropy_bonus():
    entropy = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        reward = reinforce.shaped_reward(0.7, entropy, 1e-1)
    np.testing.assert_allclose(reward.numpy(), 1.0, rtol=1e-6)
    assert tape.gradient(reward, entropy) is None


def test_skip_kl_penalty():
    np.testing.assert_allclose(reinforce.skip_kl_penalty(tf.fill([7], 0.4)).numpy(), 0.0, atol=1e-6)
    assert reinforce.skip_kl_penalty(tf.zeros([0])).numpy() == 0.0
    probs = tf.constant([0.1, 0.9])
    expected = np.mean(
        [p * math.log(p / 0.4) + (1 - p) * math.log((1 - p) / 0.6) for p in (0.1, 0.9)]
    )
    np.testing.assert_allclose(reinforce.skip_kl_penalty(probs).numpy(), expected, rtol=1e-5)
    assert reinforce.skip_kl_penalty(tf.constant([0.5]), target=0.4).numpy() > 0
    saturated = tf.Variable([0.0, 1.0, 0.7])
    with tf.GradientTape() as tape:
        penalty = reinforce.skip_kl_penalty(saturated)
    assert np.isfinite(penalty.numpy())
    grad = tape.gradient(penalty, saturated).numpy()
    assert np.all(np.isfinite(grad)) and grad[2] > 0  # pushes 0.7 down towards 0.4


def test_skip_kl_penalty_works_under_xla():
    penalty = tf.function(reinforce.skip_kl_penalty, jit_compile=True)
    np.testing.assert_allclose(penalty(tf.fill([3], 0.4)).numpy(), 0.0, atol=1e-6)
    assert penalty(tf.zeros([0])).numpy() == 0.0


def test_controller_optimizer_settings():
    optimizer = reinforce.make_controller_optimizer(3.5e-3)
    assert optimizer.beta_1 == 0.0 and optimizer.epsilon == 1e-3
    np.testing.assert_allclose(float(optimizer.learning_rate), 3.5e-3, rtol=1e-6)

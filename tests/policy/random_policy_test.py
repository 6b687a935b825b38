"""Tests for enas_tf.policy.random_policy: uniform, valid, reproducible token sequences."""

import numpy as np
import pytest
import tensorflow as tf

from configs import tiny
from enas_tf.policy.random_policy import UniformPolicy, outcome_counts
from enas_tf.spaces import decisions, macro, micro, registry, rnn


def _samples(program, n):
    policy = UniformPolicy(program)
    sample = tf.function(policy.sample)
    gen = tf.random.Generator.from_seed(0)
    return np.stack([sample(gen.make_seeds(1)[:, 0]).numpy() for _ in range(n)])


def test_outcome_counts_follow_the_program():
    program = (
        decisions.AnchorStep(),
        decisions.IndexChoice(3),
        decisions.OpChoice(5),
        decisions.SkipChoice(2, push_anchor=True),
        decisions.ResetAnchors(),
        decisions.SkipChoice(0),
    )
    np.testing.assert_array_equal(outcome_counts(program), [3, 5, 2, 2])


def test_samples_are_valid_arcs_of_every_space():
    for space, valid in (
        ("micro", lambda t, c: micro.tokens_are_valid(t, c.search.model.num_nodes)),
        ("macro", lambda t, c: macro.tokens_are_valid(t, c.search.model.num_layers)),
        ("rnn", lambda t, c: rnn.tokens_are_valid(t, c.search.model.num_nodes)),
    ):
        config = tiny.get_config(f"space={space}")
        for tokens in _samples(registry.of(config).decision_program(), 30):
            assert valid(tokens, config), (space, tokens)
            registry.of(config).arc_from_tokens(tokens.tolist())  # constructs (validates)


@pytest.mark.slow
def test_every_token_is_uniform_over_its_outcomes():
    program = micro.decision_program(3)
    counts = outcome_counts(program)
    samples = _samples(program, 3000)
    for position, n in enumerate(counts):
        frequencies = np.bincount(samples[:, position], minlength=n) / len(samples)
        assert frequencies.shape == (n,)
        # 3000 draws: the sd of a frequency is at most ~0.009.
        np.testing.assert_allclose(frequencies, 1.0 / n, atol=0.04)


def test_same_seed_same_arc_in_eager_and_compiled_code():
    policy = UniformPolicy(macro.decision_program(5))
    seed = tf.constant([3, 4])
    eager = policy.sample(seed).numpy()
    np.testing.assert_array_equal(tf.function(policy.sample)(seed).numpy(), eager)
    np.testing.assert_array_equal(tf.function(policy.sample, jit_compile=True)(seed).numpy(), eager)
    assert not np.array_equal(policy.sample(tf.constant([3, 5])).numpy(), eager)

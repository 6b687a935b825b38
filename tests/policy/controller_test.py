"""Tests for enas_tf.policy.controller: analytic log-probs, sampling, consistency, XLA, learning."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from enas_tf.policy import reinforce
from enas_tf.policy.controller import Controller, PolicyOutput
from enas_tf.spaces.decisions import (
    AnchorStep,
    IndexChoice,
    OpChoice,
    ResetAnchors,
    SkipChoice,
)

SEP_BIAS = (10.0, 10.0, 0.0, 0.0, 0.0)

# Two cells of a micro-like space with 3 computed nodes each; the second cell starts a new block.
MICRO_PROGRAM = (
    AnchorStep(),
    AnchorStep(),
    IndexChoice(2),
    OpChoice(5, bias_init=SEP_BIAS),
    IndexChoice(2),
    OpChoice(5, bias_init=SEP_BIAS),
    AnchorStep(),
    IndexChoice(3),
    OpChoice(5, bias_init=SEP_BIAS),
    IndexChoice(3),
    OpChoice(5, bias_init=SEP_BIAS),
    AnchorStep(),
    ResetAnchors(),
    AnchorStep(),
    AnchorStep(),
    IndexChoice(2),
    OpChoice(5, bias_init=SEP_BIAS),
    IndexChoice(2),
    OpChoice(5, bias_init=SEP_BIAS),
    AnchorStep(),
)

# A macro-like program: per layer an op, then skip bits over the earlier layers, then the anchor.
MACRO_PROGRAM = (
    OpChoice(6, group="macro_op"),
    AnchorStep(),
    OpChoice(6, group="macro_op"),
    SkipChoice(1),
    AnchorStep(),
    OpChoice(6, group="macro_op"),
    SkipChoice(2),
    AnchorStep(),
    OpChoice(6, group="macro_op"),
    SkipChoice(3),
    AnchorStep(),
)

# The macro space's real program: the skip step of layer k also pushes layer k's anchor, so
# each layer costs two LSTM steps (op; skips + anchor), as in the authors' controller.
PUSHING_MACRO_PROGRAM = (
    OpChoice(6, group="op"),
    AnchorStep(),
    OpChoice(6, group="op"),
    SkipChoice(1, push_anchor=True),
    OpChoice(6, group="op"),
    SkipChoice(2, push_anchor=True),
    OpChoice(6, group="op"),
    SkipChoice(3, push_anchor=True),
)


def _token_ranges(program) -> list[int]:
    """Number of allowed values of each token of `program`, in token order."""
    ranges = []
    for step in program:
        if isinstance(step, OpChoice):
            ranges.append(step.num_ops)
        elif isinstance(step, IndexChoice):
            ranges.append(step.num_candidates)
        elif isinstance(step, SkipChoice):
            ranges.extend([2] * step.num_candidates)
    return ranges


def _uniform_log_prob(program) -> float:
    """log-probability of any token sequence under the uniform policy."""
    return -sum(math.log(n) for n in _token_ranges(program))


def _zero_weights(controller: Controller) -> None:
    for weight in controller.weights:
        weight.assign(tf.zeros(weight.shape, weight.dtype))


def _weight(controller: Controller, name: str):
    (match,) = [w for w in controller.weights if w.path.split("/")[-1] == name]
    return match


def _seed(i: int) -> tf.Tensor:
    return tf.constant([i, 1234], tf.int64)


@pytest.mark.parametrize(
    "program",
    [MICRO_PROGRAM, MACRO_PROGRAM, PUSHING_MACRO_PROGRAM],
    ids=["micro", "macro", "macro_pushing"],
)
def test_zero_weights_give_uniform_policy(program):
    controller = Controller(program, lstm_size=16, lstm_num_layers=2, temperature=5.0)
    _zero_weights(controller)
    expected = _uniform_log_prob(program)
    rng = np.random.default_rng(0)
    for _ in range(3):
        tokens = tf.constant([rng.integers(n) for n in _token_ranges(program)], tf.int32)
        log_prob, entropy = controller.log_prob(tokens)
        np.testing.assert_allclose(log_prob.numpy(), expected, rtol=1e-5)
        np.testing.assert_allclose(entropy.numpy(), -expected, rtol=1e-5)
    tokens, log_prob, entropy = controller.sample(_seed(0))
    np.testing.assert_allclose([log_prob.numpy(), entropy.numpy()], [expected, -expected], 1e-5)


def test_skip_probs_reported_per_bernoulli():
    controller = Controller(MACRO_PROGRAM, lstm_size=16)
    out = controller.sample_with_details(_seed(3))
    assert isinstance(out, PolicyOutput)
    assert out.skip_probs.shape == [1 + 2 + 3] and out.skip_probs.dtype == tf.float32
    _zero_weights(controller)
    np.testing.assert_allclose(controller.sample_with_details(_seed(3)).skip_probs, 0.5)
    no_skips = Controller(MICRO_PROGRAM, lstm_size=16).sample_with_details(_seed(0))
    assert no_skips.skip_probs.shape == [0]


@pytest.mark.parametrize(
    "program",
    [MICRO_PROGRAM, MACRO_PROGRAM, PUSHING_MACRO_PROGRAM],
    ids=["micro", "macro", "macro_pushing"],
)
def test_sample_in_range_deterministic_and_consistent(program):
    controller = Controller(program, lstm_size=32, tanh_constant=None)
    ranges = np.array(_token_ranges(program))
    assert controller.num_tokens == len(ranges)
    seen = set()
    for i in range(4):
        out = controller.sample_with_details(_seed(i))
        tokens = out.tokens.numpy()
        assert out.tokens.dtype == tf.int32 and tokens.shape == (len(ranges),)
        assert np.all(tokens >= 0) and np.all(tokens < ranges), tokens
        np.testing.assert_array_equal(controller.sample(_seed(i))[0].numpy(), tokens)
        seen.add(tuple(tokens))
        teacher = controller.log_prob_with_details(out.tokens)
        np.testing.assert_allclose(teacher.log_prob.numpy(), out.log_prob.numpy(), rtol=1e-5)
        np.testing.assert_allclose(teacher.entropy.numpy(), out.entropy.numpy(), rtol=1e-5)
        np.testing.assert_allclose(teacher.skip_probs.numpy(), out.skip_probs.numpy(), 1e-5)
    assert len(seen) >= 3, seen


def test_bias_init_favours_separable_convs():
    program = (OpChoice(5, bias_init=SEP_BIAS),) * 40
    controller = Controller(program, lstm_size=8, tanh_constant=1.1, op_tanh_reduce=2.5)
    np.testing.assert_allclose(_weight(controller, "op_b_soft").numpy(), SEP_BIAS)
    _zero_weights(controller)
    _weight(controller, "op_b_soft").assign(SEP_BIAS)
    logits = (1.1 / 2.5) * np.tanh(np.array(SEP_BIAS))
    log_p = logits - np.log(np.sum(np.exp(logits)))

    sample = tf.function(controller.sample)
    tokens = np.concatenate([sample(_seed(i))[0].numpy() for i in range(60)])
    sep_freq = np.mean(tokens < 2)  # analytic 0.509, uniform 0.4
    assert abs(sep_freq - 2 * np.exp(log_p[0])) < 0.03, sep_freq

    fixed = tf.constant(tokens[: len(program)], tf.int32)
    log_prob, entropy = controller.log_prob(fixed)
    np.testing.assert_allclose(log_prob.numpy(), np.sum(log_p[fixed.numpy()]), rtol=1e-5)
    np.testing.assert_allclose(entropy.numpy(), -len(program) * np.sum(np.exp(log_p) * log_p), 1e-5)


def test_reinforce_gradients_reach_every_weight():
    program = MACRO_PROGRAM + (IndexChoice(2),)
    controller = Controller(program, lstm_size=16, first_input="go")
    with tf.GradientTape() as tape:
        out = controller.sample_with_details(_seed(5))
        loss = reinforce.reinforce_loss(out.log_prob, 1.0, 0.25)
        loss += 0.8 * reinforce.skip_kl_penalty(out.skip_probs)
    grads = tape.gradient(loss, controller.trainable_variables)
    for weight, grad in zip(controller.trainable_variables, grads, strict=True):
        assert grad is not None, weight.path
        grad = tf.convert_to_tensor(grad).numpy()
        assert np.all(np.isfinite(grad)) and np.any(grad != 0), weight.path


def test_positive_advantage_step_raises_log_prob():
    controller = Controller(MICRO_PROGRAM, lstm_size=32)
    tokens = controller.sample(_seed(11))[0]
    optimizer = reinforce.make_controller_optimizer(1e-2)
    before = controller.log_prob(tokens)[0]
    with tf.GradientTape() as tape:
        loss = reinforce.reinforce_loss(controller.log_prob(tokens)[0], 1.0, 0.0)
    variables = controller.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    assert controller.log_prob(tokens)[0].numpy() > before.numpy() + 1e-3


def test_policy_gradient_learns_preferred_op():
    program = (OpChoice(5), AnchorStep(), OpChoice(5))
    controller = Controller(program, lstm_size=16, tanh_constant=1.5)
    optimizer = reinforce.make_controller_optimizer(0.05)
    optimizer.build(controller.trainable_variables)
    generator = tf.random.Generator.from_seed(0)
    baseline = tf.Variable(0.0)

    def prob_token0_is_2() -> float:
        pairs = tf.constant([[2, x] for x in range(5)], tf.int32)
        return float(sum(np.exp(controller.log_prob(pair)[0].numpy()) for pair in pairs))

    @tf.function(jit_compile=True)
    def train(num_steps):
        for _ in tf.range(num_steps):
            with tf.GradientTape() as tape:
                tokens, log_prob, entropy = controller.sample(generator.make_seeds(1)[:, 0])
                reward = reinforce.shaped_reward(tf.cast(tokens[0] == 2, tf.float32), entropy, 1e-4)
                baseline.assign(reinforce.update_baseline(baseline, reward, 0.9))
                loss = reinforce.reinforce_loss(log_prob, reward, baseline)
            grads = tape.gradient(loss, controller.trainable_variables)
            optimizer.apply_gradients(zip(grads, controller.trainable_variables, strict=True))

    before = prob_token0_is_2()
    train(tf.constant(100))
    after = prob_token0_is_2()
    assert before < 0.3 and after > 0.6, (before, after)


@pytest.mark.slow
def test_xla_traces_once_across_seeds_and_tokens():
    program = MACRO_PROGRAM + (ResetAnchors(), AnchorStep(), AnchorStep(), IndexChoice(2))
    controller = Controller(program, lstm_size=16, temperature=5.0)
    traces = {"sample": 0, "log_prob": 0}

    @tf.function(jit_compile=True)
    def sample(seed):
        traces["sample"] += 1
        return controller.sample_with_details(seed)

    @tf.function(jit_compile=True)
    def log_prob(tokens):
        traces["log_prob"] += 1
        return controller.log_prob(tokens)

    generator = tf.random.Generator.from_seed(7)
    seen = set()
    for _ in range(6):
        seed = generator.make_seeds(1)[:, 0]
        out = sample(seed)
        np.testing.assert_array_equal(out.tokens.numpy(), sample(seed).tokens.numpy())
        # Same seed, same architecture with and without XLA.
        np.testing.assert_array_equal(controller.sample(seed)[0].numpy(), out.tokens.numpy())
        xla_log_prob, xla_entropy = log_prob(out.tokens)
        np.testing.assert_allclose(xla_log_prob.numpy(), out.log_prob.numpy(), rtol=1e-4)
        eager_log_prob, eager_entropy = controller.log_prob(out.tokens)
        np.testing.assert_allclose(eager_log_prob.numpy(), out.log_prob.numpy(), rtol=1e-4)
        np.testing.assert_allclose(eager_entropy.numpy(), xla_entropy.numpy(), rtol=1e-4)
        seen.add(tuple(out.tokens.numpy()))
    assert traces == {"sample": 1, "log_prob": 1}
    assert sample.experimental_get_tracing_count() == 1
    assert len(seen) >= 4


def test_too_many_candidates_rejected_at_construction():
    with pytest.raises(ValueError, match=r"program\[2\].*3 candidates.*2 anchors"):
        Controller((AnchorStep(), AnchorStep(), IndexChoice(3)))
    with pytest.raises(ValueError, match=r"program\[3\]"):
        Controller((AnchorStep(), AnchorStep(), ResetAnchors(), IndexChoice(1)))
    with pytest.raises(ValueError, match=r"SkipChoice"):
        Controller((AnchorStep(), SkipChoice(2)))
    with pytest.raises(ValueError, match="group 'op'"):
        Controller((OpChoice(5), OpChoice(4)))


def test_weights_complete_named_and_float32_under_mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        controller = Controller(MACRO_PROGRAM, lstm_size=8, lstm_num_layers=2)
        out = controller.sample_with_details(_seed(0))
    finally:
        keras.config.set_dtype_policy(previous)
    names = [w.path.split("/")[-1] for w in controller.weights]
    assert names == [
        "lstm_0_kernel", "lstm_0_bias", "lstm_1_kernel", "lstm_1_bias", "g_emb",
        "macro_op_w_soft", "macro_op_b_soft", "macro_op_w_emb", "attn_w1", "attn_w2", "attn_v",
    ]  # fmt: skip
    assert all(w.dtype == "float32" for w in controller.weights)
    assert out.log_prob.dtype == tf.float32 and out.entropy.dtype == tf.float32
    clone = Controller.from_config(controller.get_config())
    assert [w.path for w in clone.weights] == [w.path for w in controller.weights]
    assert clone.num_tokens == controller.num_tokens


def test_checkpoint_of_weight_list_round_trips(tmp_path):
    controller = Controller(MACRO_PROGRAM, lstm_size=8)
    saved = [w.numpy() for w in controller.weights]
    path = tf.train.Checkpoint(weights=list(controller.weights)).save(str(tmp_path / "ckpt"))
    _zero_weights(controller)
    tf.train.Checkpoint(weights=list(controller.weights)).restore(path).assert_consumed()
    for weight, value in zip(controller.weights, saved, strict=True):
        np.testing.assert_array_equal(weight.numpy(), value)


def test_skip_choice_without_candidates_is_a_no_op():
    with_empty = (OpChoice(6, group="macro_op"), SkipChoice(0)) + MACRO_PROGRAM[1:]
    plain, padded = Controller(MACRO_PROGRAM, lstm_size=8), Controller(with_empty, lstm_size=8)
    for source, target in zip(plain.weights, padded.weights, strict=True):
        target.assign(source)
    assert padded.num_tokens == plain.num_tokens
    tokens, log_prob, _ = plain.sample(_seed(4))
    np.testing.assert_allclose(padded.log_prob(tokens)[0].numpy(), log_prob.numpy(), rtol=1e-6)


def test_sample_under_mirrored_strategy():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        controller = Controller(MICRO_PROGRAM, lstm_size=8)
    assert len(controller.weights) == 9

    @tf.function
    def step(seed):
        return strategy.run(controller.sample, args=(seed,))

    tokens, log_prob, _ = step(_seed(2))
    np.testing.assert_allclose(controller.log_prob(tokens)[0].numpy(), log_prob.numpy(), 1e-5)


def test_a_pushing_skip_choice_provides_the_next_layers_anchor():
    # Without push_anchor the third layer would have only 1 anchor to attend to, not 2.
    Controller(PUSHING_MACRO_PROGRAM[:6], lstm_size=8)
    with pytest.raises(ValueError, match=r"SkipChoice asks for 2 candidates"):
        Controller(
            PUSHING_MACRO_PROGRAM[:3] + (SkipChoice(1),) + PUSHING_MACRO_PROGRAM[4:6], lstm_size=8
        )


def test_distance_prior_favours_recent_anchors_by_the_enas_lm_formula():
    program = (AnchorStep(), AnchorStep(), AnchorStep(), IndexChoice(3, distance_prior=1 / 6))
    controller = Controller(program, lstm_size=8, temperature=5.0)
    _zero_weights(controller)  # attention scores 0: the prior alone shapes the distribution
    expected_logits = -np.array([9.0, 4.0, 1.0]) / 6  # -(k - j)^2 / 6 for j = 0, 1, 2
    expected = expected_logits - np.log(np.exp(expected_logits).sum())
    for j in range(3):
        log_prob, entropy = controller.log_prob(tf.constant([j]))
        np.testing.assert_allclose(log_prob.numpy(), expected[j], rtol=1e-5)
        np.testing.assert_allclose(entropy.numpy(), -(np.exp(expected) * expected).sum(), 1e-5)
    with pytest.raises(ValueError, match="distance_prior must be >= 0"):
        IndexChoice(2, distance_prior=-1.0)

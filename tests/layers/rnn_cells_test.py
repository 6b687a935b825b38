"""Tests of the RNN cells and language models: routing equals the fixed cell, one trace, XLA."""

import numpy as np
import pytest
import tensorflow as tf

from enas_tf.layers.rnn_cells import mix_activations, one_hot_scalars, rnn_output_mask
from enas_tf.models.rnn_lm import LmDropout, RnnChild, RnnSupernet
from enas_tf.spaces import rnn

VOCAB, HIDDEN, NODES = 40, 8, 5


def _supernet(**kw):
    net = RnnSupernet(
        vocab_size=VOCAB,
        hidden_size=HIDDEN,
        num_nodes=NODES,
        activations=rnn.ACTIVATIONS,
        **kw,
    )
    net.build()
    return net


def _copy_arc_weights(supernet, child, arc):
    """Gives the fixed child exactly the supernet weights its arc uses."""
    child.embedding.embeddings.assign(supernet.embedding.embeddings)
    child.cell.w_first.assign(supernet.cell.w_first)
    for number in range(2, arc.num_nodes + 1):
        prev = arc.nodes[number - 1].prev
        child.cell.w_nodes[number - 2].assign(supernet.cell.w_nodes[number - 2][prev - 1])


def _batch(seed=0, batch=3, steps=6):
    rng = np.random.default_rng(seed)
    tokens = tf.constant(rng.integers(0, VOCAB, (batch, steps)), tf.int32)
    state = tf.constant(rng.normal(size=(batch, HIDDEN)), tf.float32)
    return tokens, state


@pytest.mark.parametrize("output", ["loose_ends", "all_but_first"])
def test_routed_supernet_equals_the_fixed_model_of_the_arc(output):
    supernet = _supernet(output=output, batch_norm_output=False)
    tokens, state = _batch()
    rng = np.random.default_rng(1)
    for _ in range(4):
        arc = rnn.sample_random_arc(NODES, rng)
        child = RnnChild(arc, vocab_size=VOCAB, hidden_size=HIDDEN, output=output)
        child.build()
        _copy_arc_weights(supernet, child, arc)
        logits, next_state = supernet(tokens, state, tf.constant(arc.to_tokens()))
        expected_logits, expected_state = child(tokens, state)
        np.testing.assert_allclose(logits.numpy(), expected_logits.numpy(), atol=1e-5)
        np.testing.assert_allclose(next_state.numpy(), expected_state.numpy(), atol=1e-5)


def test_gradients_reach_only_the_weights_of_the_chosen_inputs():
    supernet = _supernet()
    tokens, state = _batch()
    arc = rnn.RnnArc.from_string("0 2 1 0 2 1")  # enas_lm form: 4 nodes
    arc = rnn.RnnArc(arc.nodes + (rnn.RnnNode(2, "relu"),))  # 5 nodes, node 5 reads node 2
    with tf.GradientTape() as tape:
        logits, _ = supernet(tokens, state, tf.constant(arc.to_tokens()), training=True)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tokens, logits))
    grads = tape.gradient(loss, supernet.cell.w_nodes)
    for number, grad in zip(range(2, NODES + 1), grads, strict=True):
        per_slice = tf.reduce_max(tf.abs(grad), axis=[1, 2]).numpy()
        chosen = arc.nodes[number - 1].prev - 1
        assert per_slice[chosen] > 0, f"node {number}: no gradient into its input's weights"
        others = np.delete(per_slice, chosen)
        assert np.all(others == 0), f"node {number}: gradient leaked into {others}"


@pytest.mark.slow
def test_one_trace_serves_every_cell_and_compiles_with_xla():
    supernet = _supernet(dropout=LmDropout(0.1, 0.2, 0.3, 0.2, 0.3))
    tokens, state = _batch()
    variables = supernet.trainable_variables

    @tf.function(jit_compile=True)
    def train_step(arc_tokens):
        with tf.GradientTape() as tape:
            logits, next_state = supernet(tokens, state, arc_tokens, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tokens, logits))
        return loss, next_state, tape.gradient(loss, variables)

    rng = np.random.default_rng(2)
    losses = set()
    for _ in range(20):
        arc = rnn.sample_random_arc(NODES, rng)
        loss, next_state, grads = train_step(tf.constant(arc.to_tokens(), tf.int32))
        assert np.isfinite(float(loss)) and next_state.shape == (3, HIDDEN)
        assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads)
        losses.add(round(float(loss), 6))
    assert train_step.experimental_get_tracing_count() == 1
    assert len(losses) > 1


def test_output_mask_and_activation_select():
    arc = rnn.RnnArc.from_tokens([0, 0, 1, 0, 2, 1, 3])  # nodes 2 and 3 read node 1, 4 reads 2
    tokens = tf.constant(arc.to_tokens())
    loose = rnn_output_mask(tokens, 4, "loose_ends").numpy()
    assert arc.loose_ends() == (3, 4)
    np.testing.assert_allclose(loose, [0, 0, 0.5, 0.5])
    np.testing.assert_allclose(
        rnn_output_mask(tokens, 4, "all_but_first").numpy(), [0, 1 / 3, 1 / 3, 1 / 3], rtol=1e-6
    )
    for arc in (rnn.sample_random_arc(NODES, np.random.default_rng(seed)) for seed in range(8)):
        mask = rnn_output_mask(tf.constant(arc.to_tokens()), NODES, "loose_ends").numpy()
        assert tuple(np.flatnonzero(mask) + 1) == arc.loose_ends()
    x = tf.constant([[-1.0, 0.5]])
    for index, name in enumerate(rnn.ACTIVATIONS):
        expected = {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0)}.get(name)
        if name == "sigmoid":
            expected = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
        if name == "identity":
            expected = lambda v: v  # noqa: E731
        weights = one_hot_scalars(tf.constant(index), len(rnn.ACTIVATIONS), x.dtype)
        got = mix_activations(x, weights, rnn.ACTIVATIONS).numpy()
        np.testing.assert_allclose(got, expected(x.numpy()), rtol=1e-6)


def test_state_carries_across_windows():
    # Two windows of 3 tokens with the state carried = one window of 6 tokens.
    child = RnnChild(rnn.PUBLISHED["enas_lm_cell"], vocab_size=VOCAB, hidden_size=HIDDEN)
    tokens, state = _batch(steps=6)
    whole, whole_state = child(tokens, state)
    first, mid_state = child(tokens[:, :3], state)
    second, end_state = child(tokens[:, 3:], mid_state)
    np.testing.assert_allclose(tf.concat([first, second], 1).numpy(), whole.numpy(), atol=1e-5)
    np.testing.assert_allclose(end_state.numpy(), whole_state.numpy(), atol=1e-5)
    # Tied weights: the softmax uses the embedding matrix (one matrix, V x H).
    assert [v.shape for v in child.embedding.trainable_variables] == [(VOCAB, HIDDEN)]

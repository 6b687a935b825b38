"""Recurrent language models of the RNN search space: the shared supernet and the fixed model.

Both are word-level LMs (paper 3.1, appendix A): a tied embedding / softmax
(`keras_hub.layers.ReversibleEmbedding`: the output logits are `h @ E^T`, Inan et al. 2017),
one recurrent cell (`enas_tf.layers.rnn_cells`) unrolled over a window of `bptt` tokens with
`tf.scan`, and the regularisers of the authors' enas_lm code: word-level embedding dropout
(whole rows of `E`), variational dropout (one mask per sequence, the same at every time step)
on the embeddings, on the cell's input and recurrent connections, and on its outputs.

`call(tokens, state, arc=None, training)` returns `(logits [B, T, V], next_state [B, H])`; the
caller carries `next_state` into the next window of the same rows (truncated BPTT) and resets it
to zeros at the start of an epoch or an evaluation pass.
"""

from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf

from enas_tf.layers.rnn_cells import FixedRnnCell, SharedRnnCell


@dataclasses.dataclass(frozen=True)
class LmDropout:
    """Dropout rates (not keep rates), named as in enas_lm.

    Attributes:
      embedding_words: drop whole word embeddings (rows of E) (drop_e).
      embedding: variational dropout on the embedded inputs (drop_i).
      cell_input: variational dropout on the cell's input x_t (drop_x).
      recurrent: variational dropout on h_{t-1} and on every node's input (drop_l).
      output: variational dropout on the cell outputs before the softmax (drop_o).
    """

    embedding_words: float = 0.0
    embedding: float = 0.0
    cell_input: float = 0.0
    recurrent: float = 0.0
    output: float = 0.0


class _RnnLanguageModel(keras.layers.Layer):
    """Embedding, unrolled cell, tied softmax; subclasses provide the cell."""

    def __init__(self, *, vocab_size, hidden_size, dropout: LmDropout, init_range, seed=0, **kw):
        super().__init__(**kw)
        # Imported here, not with the module: importing keras_hub takes ~0.7 s, which every run
        # paid at start-up (the model builders import this module) and only language models use.
        import keras_hub

        self.vocab_size, self.hidden_size, self.dropout = vocab_size, hidden_size, dropout
        self.embedding = keras_hub.layers.ReversibleEmbedding(
            vocab_size,
            hidden_size,
            tie_weights=True,
            embeddings_initializer=keras.initializers.RandomUniform(-init_range, init_range),
            name="embedding",
        )
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape=None):
        """Creates the embedding and the cell weights (subclasses set `self.cell`)."""
        self.embedding.build((None, None))
        self.cell.build()
        self.built = True

    def zero_state(self, batch_size):
        return tf.zeros([batch_size, self.hidden_size])

    def _mask(self, shape, rate, training):
        """A dropout mask (scaled by 1 / keep) of `shape`, or None when unused."""
        if not training or rate <= 0.0:
            return None
        ones = tf.ones(shape, self.compute_dtype)
        return keras.random.dropout(ones, rate, seed=self.seed_generator)

    def _cell_step(self, routing):
        raise NotImplementedError

    def _routing(self, arc):
        return None

    def call(self, tokens, state, arc=None, training=False):
        tokens = tf.convert_to_tensor(tokens, tf.int32)
        batch = tf.shape(tokens)[0]
        drop, hidden = self.dropout, self.hidden_size
        x = self.embedding(tokens)  # [B, T, H]
        words = self._mask([self.vocab_size, 1], drop.embedding_words, training)
        if words is not None:
            x = x * tf.gather(words, tokens)
        mask = self._mask([batch, 1, hidden], drop.embedding, training)
        if mask is not None:
            x = x * mask
        input_mask = self._mask([batch, hidden], drop.cell_input, training)
        state_mask = self._mask([batch, hidden], drop.recurrent, training)
        masks = None
        if input_mask is not None or state_mask is not None:
            ones = tf.ones([batch, hidden], self.compute_dtype)
            masks = (
                input_mask if input_mask is not None else ones,
                state_mask if state_mask is not None else ones,
            )
        step = self._cell_step(self._routing(arc), masks)
        state = tf.cast(state, self.compute_dtype)
        outputs = tf.scan(lambda h, x_t: step(x_t, h), tf.transpose(x, [1, 0, 2]), state)
        outputs = tf.transpose(outputs, [1, 0, 2])  # [B, T, H]
        next_state = outputs[:, -1]
        mask = self._mask([batch, 1, hidden], drop.output, training)
        if mask is not None:
            outputs = outputs * mask
        logits = self.embedding(outputs, reverse=True)
        # float32 out whatever the compute dtype (mixed_bfloat16 on TPU): the softmax and the
        # carried state keep full precision.
        return tf.cast(logits, tf.float32), tf.cast(next_state, tf.float32)


class RnnSupernet(_RnnLanguageModel):
    """The shared LM of the RNN space; `call(tokens, state, arc_tokens, training)`.

    `arc_tokens` is the int32 token sequence of an `RnnArc` (`2N - 1` values, laid out as
    `enas_tf.spaces.rnn.layout` says); one traced graph serves every cell.
    """

    def __init__(
        self,
        *,
        vocab_size,
        hidden_size,
        num_nodes,
        activations,
        output="loose_ends",
        dropout=LmDropout(),
        init_range=0.025,
        batch_norm_output=True,
        seed=0,
        **kw,
    ):
        super().__init__(
            vocab_size=vocab_size,
            hidden_size=hidden_size,
            dropout=dropout,
            init_range=init_range,
            seed=seed,
            **kw,
        )
        self.cell = SharedRnnCell(
            hidden_size,
            num_nodes,
            activations,
            output=output,
            init_range=init_range,
            batch_norm_output=batch_norm_output,
            name="cell",
        )

    def _routing(self, arc):
        return self.cell.routing(tf.convert_to_tensor(arc, tf.int32))

    def _cell_step(self, routing, masks):
        return lambda x, h: self.cell.step(x, h, routing, masks)


class RnnChild(_RnnLanguageModel):
    """The fixed LM of one `RnnArc`, for retraining from scratch and export."""

    def __init__(
        self,
        arc,
        *,
        vocab_size,
        hidden_size,
        output="loose_ends",
        dropout=LmDropout(),
        init_range=0.04,
        seed=0,
        **kw,
    ):
        super().__init__(
            vocab_size=vocab_size,
            hidden_size=hidden_size,
            dropout=dropout,
            init_range=init_range,
            seed=seed,
            **kw,
        )
        self.arc = arc
        self.cell = FixedRnnCell(
            arc, hidden_size, output=output, init_range=init_range, name="cell"
        )

    def _cell_step(self, routing, masks):
        del routing
        return lambda x, h: self.cell.step(x, h, masks)

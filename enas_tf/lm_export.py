"""Export a retrained RNN-cell language model as a SavedModel in the TF Serving layout.

`workdir/export/<version>/` holds two signatures:

* `serving_default`: `words` (string [None, T]) -> `log_probs` (float32 [None, T, V], the
  log-probability of every vocabulary word as the next word after each position) and
  `next_word` (string [None, T], the most likely one). The vocabulary lookup is inside the
  model (`tf.lookup.StaticHashTable`); a word outside the vocabulary maps to `<unk>` (or
  `<eos>` when the vocabulary has no `<unk>`).
* `ids`: the same from token ids (`token_ids` int32 [None, T]).

Every request starts from a zero hidden state: a client sends the context it wants the model
to condition on. The arc is written beside the model as `arc.json`, the vocabulary as
`vocab.txt` (one word per line, line number = id). The graph holds the fixed cell only.
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from enas_tf.export import write_version


def _serving_fns(child, vocab, unk_id):
    """(lookup table, words -> outputs, ids -> outputs) around a fixed `RnnChild`."""
    vocab_tensor = tf.constant(list(vocab))
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(vocab_tensor, tf.range(len(vocab), dtype=tf.int32)),
        default_value=int(unk_id),
    )

    def from_ids(token_ids):
        state = tf.zeros([tf.shape(token_ids)[0], child.hidden_size])
        logits, _ = child(token_ids, state, training=False)
        best = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return {"log_probs": tf.nn.log_softmax(logits), "next_word": tf.gather(vocab_tensor, best)}

    def from_words(words):
        return from_ids(table.lookup(words))

    return table, from_words, from_ids


def export_lm(child, arc, splits, *, export_root: str, version: int | None = None) -> str:
    """Exports a retrained `RnnChild` (see the module docstring) with `write_version`."""
    unk_id = splits.unk_id if splits.unk_id is not None else splits.eos_id

    def write(staging):
        table, from_words, from_ids = _serving_fns(child, splits.vocab, unk_id)
        archive = keras.export.ExportArchive()
        archive.track(child)
        archive.track(table)
        archive.add_endpoint(
            "serve", from_words, input_signature=[tf.TensorSpec([None, None], tf.string, "words")]
        )
        archive.add_endpoint(
            "ids", from_ids, input_signature=[tf.TensorSpec([None, None], tf.int32, "token_ids")]
        )
        archive.write_out(staging, verbose=False)
        with open(os.path.join(staging, "vocab.txt"), "w") as f:
            f.write("\n".join(splits.vocab) + "\n")

    return write_version(export_root, arc, write, version)

"""Language-model data for the ENAS recurrent-cell search (paper section 3.1).

`load_text_splits` turns a `config.data` section into int32 token-id arrays for train, valid
and test plus the vocabulary; `bptt_batches` / `make_lm_dataset` cut a split into the windows of
truncated back-propagation through time that the child RNN trains on.

Sources (`data.source`):

* `'embedded'`: a synthetic language generated in well under a second from `data.embedded`
  (see `enas_tf.data.embedded_text`); nothing to download.
* a directory of word-level text: Mikolov's pre-processed Penn Treebank (`ptb.train.txt`,
  `ptb.valid.txt`, `ptb.test.txt`, the `simple-examples/data` of simple-examples.tgz),
  WikiText-2/-103 (`wiki.{train,valid,test}.tokens`), `{train,valid,test}.txt`, or files of
  any names given by the keys below (`enas_tf.data.text_dirs`). `<eos>` ends every line; the
  vocabulary comes from the training file only, sorted by decreasing count then by word
  (TensorFlow's PTB reader's order: PTB's 10,000 words with `the` as id 0); words outside
  it become `<unk>` (`enas_tf.data.text_files` has the rules).

Config keys read from `data_config` (the `config.data` ConfigDict):

  source: 'embedded' or a directory (that directory, or one containing `data/`,
    `simple-examples/data/`, `wikitext-2/` or `wikitext-103/` with the files).
  train_file / valid_file / test_file: file names relative to `source` ("" = recognise PTB's,
    WikiText's or train/valid/test.txt).
  vocab_size: 0 = every training word; N >= 3 = the N most frequent, `<eos>` and `<unk>`
    included, the others mapped to `<unk>`.
  embedded.num_train_tokens / num_valid_tokens / num_test_tokens: split sizes of the embedded
    corpus (defaults 100_000 / 10_000 / 10_000).
  embedded.seed: the embedded corpus's seed (default 0); a property of the data, not the run.
  valid_from_train_tail: 0 (default) for the standard split. N > 0 is an explicit DEVIATION
    for machines that lack the validation file (e.g. ptb.valid.txt): the validation split is
    the last N tokens of the training file (which are removed from train) and the validation
    file is not read even if present. Perplexities are then not comparable with published
    numbers; the returned `TextSplits.deviations` says so, and it is logged as a warning.

Batching follows the paper's code (and TensorFlow's PTB tutorial): the id stream is cut into
`batch_size` contiguous rows (`[batch_size, len // batch_size]`, the tail dropped) and window i
of a row is its tokens `[i * bptt, (i + 1) * bptt]`: inputs are the first `bptt`, targets the
last `bptt`. Row b of window i + 1 continues row b of window i, so the child model carries its
hidden state from one window to the next. There is no shuffling; a run resumes mid-epoch by
starting at a window index. AWD-LSTM's variable-length BPTT is not implemented.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from enas_tf.data import embedded_text, parallel_map, text_dirs
from enas_tf.data.corpus import EOS, UNK, TextSplits  # noqa: F401 (re-exported)

# Re-exported: the PTB reader's names, from before the directory reader had its own modules.
from enas_tf.data.text_dirs import (  # noqa: F401
    PTB_FILES,
    PTB_HOW_TO_GET,
    PTB_TEST,
    PTB_TRAIN,
    PTB_VALID,
    find_ptb_dir,
    load_ptb,
)
from enas_tf.data.text_files import build_vocab, read_words  # noqa: F401 (re-exported)
from enas_tf.errors import DataError

_DIRECTORY_KEYS = (*text_dirs.FILE_KEYS, "vocab_size", "valid_from_train_tail")


# --------------------------------------------------------------------------------------------
# Loading.


def load_text_splits(data_config) -> TextSplits:
    """Loads the corpus named by `data_config.source` (see the module docstring for the keys).

    Args:
      data_config: the `config.data` ConfigDict: `source`, `train_file`, `valid_file`,
        `test_file`, `vocab_size`, `valid_from_train_tail` and `embedded` (num_train_tokens,
        num_valid_tokens, num_test_tokens, seed). Missing optional keys take their defaults.

    Returns:
      The splits and vocabulary.

    Raises:
      DataError: the source cannot be read or an option does not apply to it.
    """
    source = str(data_config.source)
    options = {key: _get(data_config, key, None) for key in _DIRECTORY_KEYS}
    if source == "embedded":
        for key, value in options.items():
            if value:
                default = '""' if isinstance(value, str) else "0"
                raise DataError(
                    f"data.{key}={value!r} only applies to a PTB directory or any other "
                    "directory of text files; the embedded corpus has its own vocabulary and "
                    f"validation split (data.embedded). Set data.{key}={default}."
                )
        emb = _get(data_config, "embedded", None)
        return embedded_text.make_embedded_corpus(
            num_train_tokens=int(_get(emb, "num_train_tokens", 100_000)),
            num_valid_tokens=int(_get(emb, "num_valid_tokens", 10_000)),
            num_test_tokens=int(_get(emb, "num_test_tokens", 10_000)),
            seed=int(_get(emb, "seed", 0)),
        )
    if not source or not os.path.exists(os.path.expanduser(source)):
        raise DataError(
            f"data.source={source!r} is neither 'embedded' nor an existing directory: it must "
            f"be a directory with training, validation and test text ({text_dirs.LOOKED_FOR}, "
            f"or names given by data.train_file / valid_file / test_file). {PTB_HOW_TO_GET}"
        )
    return text_dirs.load_text_dir(
        source,
        train_file=str(options["train_file"] or ""),
        valid_file=str(options["valid_file"] or ""),
        test_file=str(options["test_file"] or ""),
        vocab_size=int(options["vocab_size"] or 0),
        valid_from_train_tail=int(options["valid_from_train_tail"] or 0),
    )


def _get(config, key: str, default):
    """`config.key`, or `default` if the key (or the config) is absent."""
    if config is None:
        return default
    try:
        return config[key]
    except (KeyError, AttributeError, TypeError):
        return default


# --------------------------------------------------------------------------------------------
# Truncated-BPTT batching.


def num_windows(num_tokens: int, batch_size: int, bptt: int) -> int:
    """Windows per epoch: (num_tokens // batch_size - 1) // bptt, as in enas_lm."""
    return max(0, (int(num_tokens) // int(batch_size) - 1) // int(bptt))


def _rows(ids, batch_size: int, bptt: int) -> np.ndarray:
    """The stream as int32 [batch_size, len // batch_size] rows, checked to fill a window."""
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise DataError(f"Token ids must be a 1-D stream; got shape {ids.shape}.")
    if int(batch_size) <= 0 or int(bptt) <= 0:
        raise DataError(f"batch_size={batch_size} and bptt={bptt} must both be > 0.")
    if num_windows(len(ids), batch_size, bptt) == 0:
        raise DataError(
            f"{len(ids)} tokens give rows of {len(ids) // batch_size} tokens at batch_size="
            f"{batch_size}, fewer than the bptt + 1 = {bptt + 1} one window needs: lower the "
            "batch size or bptt, or use a larger split."
        )
    row_len = len(ids) // batch_size
    return ids[: batch_size * row_len].astype(np.int32).reshape(batch_size, row_len)


def bptt_batches(ids, batch_size: int, bptt: int) -> tuple[np.ndarray, np.ndarray]:
    """All truncated-BPTT windows of one epoch, in numpy.

    Args:
      ids: int [N] token stream.
      batch_size: rows (independent contiguous streams) per window.
      bptt: time steps per window.

    Returns:
      (inputs, targets), each int32 [num_windows, batch_size, bptt]; targets[i, b, t] is the
      token after inputs[i, b, t], and inputs[i + 1, b, 0] follows inputs[i, b, -1] (it is
      targets[i, b, -1]).

    Raises:
      DataError: bad shapes or sizes, or too few tokens for one window.
    """
    rows = _rows(ids, batch_size, bptt)
    n = num_windows(rows.size, batch_size, bptt)

    def windows(offset):
        block = rows[:, offset : offset + n * bptt].reshape(batch_size, n, bptt)
        return np.ascontiguousarray(block.transpose(1, 0, 2))

    return windows(0), windows(1)


def make_lm_dataset(
    ids,
    *,
    batch_size: int,
    bptt: int,
    start_window: int = 0,
    repeat: bool = False,
) -> tf.data.Dataset:
    """The windows of `bptt_batches` as a tf.data pipeline, optionally resumed mid-epoch.

    Windows are sliced from the [batch_size, L] rows held on the host, so skipping to
    `start_window` costs nothing. With `repeat=True` the epochs follow each other forever
    (the same windows each epoch; there is no shuffling in truncated BPTT) and `start_window`
    may be any step count: window `start_window % num_windows` of epoch
    `start_window // num_windows` comes first.

    Args:
      ids: int [N] token stream.
      batch_size: rows per window.
      bptt: time steps per window.
      start_window: index of the first window to produce (0 = the start of the stream).
      repeat: repeat the epoch forever.

    Returns:
      Dataset of (inputs int32 [batch_size, bptt], targets int32 [batch_size, bptt]).

    Raises:
      DataError: as `bptt_batches`, or `start_window` is out of range.
    """
    rows = _rows(ids, batch_size, bptt)
    n = num_windows(rows.size, batch_size, bptt)
    start = int(start_window)
    if start < 0 or (not repeat and start > n):
        raise DataError(
            f"start_window={start} must be in [0, {n}] (the windows of one epoch) or, with "
            "repeat=True, >= 0."
        )
    with tf.device("/cpu:0"):
        rows_t = tf.constant(rows)

    def window(i):
        offset = tf.cast((i % n) * bptt, tf.int32)
        block = tf.slice(rows_t, [0, offset], [batch_size, bptt + 1])
        return block[:, :-1], block[:, 1:]

    indices = tf.data.Dataset.range(start, 2**62 if repeat else n)
    return parallel_map.map_and_prefetch(indices, window)

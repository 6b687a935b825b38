"""Language-model data for the ENAS recurrent-cell search (paper section 3.1).

`load_text_splits` turns a `config.data` section into int32 token-id arrays for train, valid
and test plus the vocabulary; `bptt_batches` / `make_lm_dataset` cut a split into the windows of
truncated back-propagation through time that the child RNN trains on.

Sources (`data.source`):

* `'embedded'`: a synthetic language generated in well under a second from `data.embedded`
  (see `enas_tf.data.embedded_text`); nothing to download.
* a directory holding Mikolov's pre-processed Penn Treebank, `ptb.train.txt`,
  `ptb.valid.txt` and `ptb.test.txt` (`simple-examples/data` of simple-examples.tgz). Each
  line is one sentence of space-separated tokens; `<eos>` is appended to every line. The
  vocabulary is built from the training file only, sorted by decreasing count then by word
  (the order of TensorFlow's PTB reader), which gives PTB's 10,000 words with `the` as id 0.
  Valid/test words outside it become `<unk>` (PTB has none: its vocabulary is closed).

Config keys read from `data_config` (the `config.data` ConfigDict):

  source: 'embedded' or a PTB directory (that directory, or one containing `data/` or
    `simple-examples/data/` with the three files).
  embedded.num_train_tokens / num_valid_tokens / num_test_tokens: split sizes of the embedded
    corpus (defaults 100_000 / 10_000 / 10_000).
  embedded.seed: the embedded corpus's seed (default 0); a property of the data, not the run.
  valid_from_train_tail: 0 (default) for the standard split. N > 0 is an explicit DEVIATION
    for machines that lack ptb.valid.txt: the validation split is the last N tokens of
    ptb.train.txt (which are removed from train) and ptb.valid.txt is not read even if present.
    Perplexities are then not comparable with published PTB numbers; the returned
    `TextSplits.deviations` says so, and it is logged as a warning.

Batching follows the paper's code (and TensorFlow's PTB tutorial): the id stream is cut into
`batch_size` contiguous rows (`[batch_size, len // batch_size]`, the tail dropped) and window i
of a row is its tokens `[i * bptt, (i + 1) * bptt]`: inputs are the first `bptt`, targets the
last `bptt`. Row b of window i + 1 continues row b of window i, so the child model carries its
hidden state from one window to the next. There is no shuffling; a run resumes mid-epoch by
starting at a window index. AWD-LSTM's variable-length BPTT is not implemented.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Mapping, Sequence

import numpy as np
import tensorflow as tf
from absl import logging

from enas_tf.data import embedded_text, parallel_map
from enas_tf.data.corpus import EOS, UNK, TextSplits  # noqa: F401 (re-exported)
from enas_tf.errors import DataError

PTB_TRAIN, PTB_VALID, PTB_TEST = "ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"
PTB_FILES = (PTB_TRAIN, PTB_VALID, PTB_TEST)
PTB_HOW_TO_GET = (
    "Get Mikolov's pre-processed PTB: download "
    "http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz, extract it "
    "(tar xzf simple-examples.tgz) and pass --config.data.source=/path/to/simple-examples/data "
    "(or use --config.data.source=embedded, which needs no download)."
)
_NEEDS = (
    f"the directory needs {PTB_TRAIN}, {PTB_VALID} and {PTB_TEST} (Mikolov's simple-examples/data)"
)
_TAIL_HINT = (
    f"If you only have {PTB_TRAIN} and {PTB_TEST}, set --config.data.valid_from_train_tail=N "
    f"to use the last N tokens of {PTB_TRAIN} as the validation split instead (a deviation from "
    "the standard split: perplexities are then not comparable with published ones; PTB's own "
    "validation split has 73760 tokens)."
)


# --------------------------------------------------------------------------------------------
# Loading.


def load_text_splits(data_config) -> TextSplits:
    """Loads the corpus named by `data_config.source` (see the module docstring for the keys).

    Args:
      data_config: the `config.data` ConfigDict: `source`, `embedded` (num_train_tokens,
        num_valid_tokens, num_test_tokens, seed) and `valid_from_train_tail`. Missing
        optional keys take their defaults.

    Returns:
      The splits and vocabulary.

    Raises:
      DataError: the source cannot be read or an option does not apply to it.
    """
    source = str(data_config.source)
    tail = int(_get(data_config, "valid_from_train_tail", 0) or 0)
    if source == "embedded":
        if tail:
            raise DataError(
                f"data.valid_from_train_tail={tail} only applies to a PTB directory; the "
                "embedded corpus has its own validation split (data.embedded."
                "num_valid_tokens). Set data.valid_from_train_tail=0."
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
            f"data.source={source!r} is neither 'embedded' nor an existing directory: "
            f"{_NEEDS}. {PTB_HOW_TO_GET}"
        )
    return load_ptb(source, valid_from_train_tail=tail)


def _get(config, key: str, default):
    """`config.key`, or `default` if the key (or the config) is absent."""
    if config is None:
        return default
    try:
        return config[key]
    except (KeyError, AttributeError, TypeError):
        return default


def find_ptb_dir(path: str) -> str:
    """Returns the directory with the PTB files: `path`, or its `data/` / `simple-examples/data/`.

    Raises:
      DataError: `path` does not exist or is not a directory.
    """
    path = os.path.expanduser(path)
    if not os.path.isdir(path):
        what = "is not a directory" if os.path.exists(path) else "does not exist"
        raise DataError(f"PTB: {path} {what}; {_NEEDS}. {PTB_HOW_TO_GET}")
    if not os.path.exists(os.path.join(path, PTB_TRAIN)):
        for child in ("data", os.path.join("simple-examples", "data")):
            if os.path.isfile(os.path.join(path, child, PTB_TRAIN)):
                return os.path.join(path, child)
    return path


def load_ptb(path: str, valid_from_train_tail: int = 0) -> TextSplits:
    """Reads Mikolov's pre-processed Penn Treebank.

    Args:
      path: the directory with `ptb.{train,valid,test}.txt` (or one containing `data/` or
        `simple-examples/data/` with them).
      valid_from_train_tail: 0 for the standard split; N > 0 makes the last N training tokens
        the validation split instead of `ptb.valid.txt` (a documented deviation, recorded in
        `TextSplits.deviations`).

    Returns:
      TextSplits; the vocabulary comes from `ptb.train.txt` (all of it, also when its tail
      becomes the validation split, so the ids are those of the standard vocabulary).

    Raises:
      DataError: the directory or a file is missing, empty or malformed, valid/test have words
        outside the training vocabulary and there is no `<unk>`, or the tail is too long.
    """
    tail = int(valid_from_train_tail)
    if tail < 0:
        raise DataError(
            f"data.valid_from_train_tail={tail} must be >= 0 (0 = use {PTB_VALID}; N > 0 = the "
            f"last N tokens of {PTB_TRAIN})."
        )
    directory = find_ptb_dir(path)
    needed = (PTB_TRAIN, PTB_TEST) if tail else PTB_FILES
    missing = [
        os.path.join(directory, f) for f in needed if not os.path.exists(os.path.join(directory, f))
    ]
    if missing:
        hint = f" {_TAIL_HINT}" if missing == [os.path.join(directory, PTB_VALID)] else ""
        raise DataError(
            f"PTB: {' and '.join(missing)} {'does' if len(missing) == 1 else 'do'} not exist; "
            f"{_NEEDS}.{hint} {PTB_HOW_TO_GET}"
        )
    train_path = os.path.join(directory, PTB_TRAIN)
    train_words = read_words(train_path)
    vocab = build_vocab(train_words)
    word_to_id = {w: i for i, w in enumerate(vocab)}
    unk_id = word_to_id.get(UNK)
    train = words_to_ids(train_words, word_to_id, unk_id, train_path, train_path)
    deviations: tuple[str, ...] = ()
    if tail:
        if tail >= len(train):
            raise DataError(
                f"data.valid_from_train_tail={tail} leaves no training data: {train_path} has "
                f"{len(train)} tokens. Use a smaller tail (PTB's own validation split has "
                "73760 tokens)."
            )
        train, valid = train[:-tail], train[-tail:]
        note = (
            f"validation split = the last {tail} tokens of {train_path} (valid_from_train_tail="
            f"{tail}), removed from train; {PTB_VALID} not used: perplexities are not "
            "comparable with published PTB results"
        )
        logging.warning("PTB: %s.", note)
        deviations = (note,)
    else:
        valid_path = os.path.join(directory, PTB_VALID)
        valid = words_to_ids(read_words(valid_path), word_to_id, unk_id, valid_path, train_path)
    test_path = os.path.join(directory, PTB_TEST)
    test = words_to_ids(read_words(test_path), word_to_id, unk_id, test_path, train_path)
    return TextSplits(
        train=train,
        valid=valid,
        test=test,
        vocab=vocab,
        eos_id=word_to_id[EOS],
        unk_id=unk_id,
        source=f"PTB {directory}",
        deviations=deviations,
    )


def read_words(path: str) -> list[str]:
    """The tokens of a pre-tokenised text file, with `<eos>` after every non-blank line.

    Blank lines are skipped (Mikolov's files have none). A literal `<eos>` token is rejected
    rather than doubled: such a file was already processed by another reader.

    Raises:
      DataError: the file cannot be read, is binary, compressed, HTML, not UTF-8, has a
        literal `<eos>`, or holds no words.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataError(f"PTB: cannot read {path}: {e.strerror or e}. {PTB_HOW_TO_GET}") from e
    if raw[:2] == b"\x1f\x8b":
        raise DataError(f"PTB: {path} is gzip-compressed; decompress it first. {PTB_HOW_TO_GET}")
    if b"\x00" in raw:
        raise DataError(f"PTB: {path} is a binary file, not tokenised text. {PTB_HOW_TO_GET}")
    try:
        # "utf-8-sig": editors on Windows start files with a byte-order mark, which would
        # otherwise become part of the first word (`\ufeffthe` beside `the` in the vocabulary).
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(
            f"PTB: {path} is not UTF-8 text (byte {e.start}: {e.reason}). {PTB_HOW_TO_GET}"
        ) from e
    if text.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        raise DataError(
            f"PTB: {path} is an HTML page (a failed download?), not tokenised text. "
            f"{PTB_HOW_TO_GET}"
        )
    # Windows (\r\n) and old Mac (\r) line ends are lines too; only these three are, so a
    # form feed or a Unicode separator inside a line does not split a sentence.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    words: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        tokens = line.split()
        if EOS in tokens:
            raise DataError(
                f"PTB: {path} line {number} already contains {EOS!r}; this loader appends {EOS} "
                "to every line itself, so give it the raw one-sentence-per-line files. "
                f"{PTB_HOW_TO_GET}"
            )
        if tokens:
            words.extend(tokens)
            words.append(EOS)
    if not words:
        raise DataError(f"PTB: {path} is empty (no words). {PTB_HOW_TO_GET}")
    return words


def build_vocab(words: Sequence[str]) -> tuple[str, ...]:
    """Distinct words sorted by decreasing count, ties by word: deterministic ids."""
    counts = collections.Counter(words)
    return tuple(sorted(counts, key=lambda w: (-counts[w], w)))


def words_to_ids(
    words: Sequence[str],
    word_to_id: Mapping[str, int],
    unk_id: int | None,
    path: str,
    vocab_path: str,
) -> np.ndarray:
    """Maps words to int32 ids; out-of-vocabulary words become `unk_id`.

    Raises:
      DataError: there are out-of-vocabulary words and `unk_id` is None (names `path`).
    """
    ids = np.fromiter((word_to_id.get(w, -1) for w in words), dtype=np.int32, count=len(words))
    oov = np.flatnonzero(ids < 0)
    if oov.size:
        if unk_id is None:
            examples = list(dict.fromkeys(words[i] for i in oov[:1000]))[:5]
            raise DataError(
                f"PTB: {path} has {oov.size} token(s) (e.g. {', '.join(map(repr, examples))}) "
                f"not in the vocabulary of {vocab_path}, which has no {UNK!r} to map them "
                "to. Mikolov's files share one closed 10,000-word vocabulary: check that "
                f"the three files belong together. {PTB_HOW_TO_GET}"
            )
        ids[oov] = unk_id
    return ids


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

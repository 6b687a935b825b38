"""Reading pre-tokenised text files and choosing their vocabulary: word-level LM corpora.

`enas_tf.data.text_dirs` finds a corpus's training, validation and test files; this module
reads each into token ids and decides which words get an id. Both rules are the corpus's
meaning, so they are stated here once.

Lines: tokens are separated by white space, one sentence (PTB) or paragraph (WikiText) per
line, and `<eos>` is appended to every line. A blank line is skipped, except in WikiText's
`.tokens` files, where it is an `<eos>` of its own as in the readers behind published
WikiText results (PyTorch's word_language_model, AWD-LSTM), so that token counts and
perplexities are comparable with theirs. A literal `<eos>` in a file is refused: another
reader wrote it and it would be doubled. A byte-order mark is not part of the first word, and
\\r\\n and \\r end lines like \\n (only these: a form feed or a Unicode separator inside a line
does not split a sentence).

Vocabulary: from the training file only (valid/test never add words), sorted by decreasing
count, ties by word (TensorFlow's PTB reader's order: PTB's 10,000 words, `the` first).
`data.vocab_size` = 0 keeps every training word; N >= 3 keeps at most N words, `<eos>` and
`<unk>` included, and maps the others to `<unk>`. Words outside the vocabulary:

* With a cap the vocabulary is open: `<unk>` is in it (added if the text has none) whenever
  the cap drops training words or valid/test hold words the training text lacks, and all
  such words become `<unk>`. `<unk>`'s id follows from its count after the mapping, i.e. the
  order a file already written with those `<unk>`s would give. A cap at or above PTB's or
  WikiText's own size changes nothing.
* Without a cap the corpus's vocabulary is used as it is: valid/test words outside it become
  `<unk>` if the training text has `<unk>` (PTB and WikiText mark rare words so), and are
  otherwise an error naming the file, the words and a cap that fixes it. An `<unk>` that no
  training token teaches would leave those words an untrained probability and the perplexity
  dominated by them, silently; under a cap the rarest training words become `<unk>` and
  teach it. A cap above the training vocabulary with unseen valid/test words has that
  problem: it is allowed, since it was asked for, and noted.

A cap that drops training words (perplexities are then not comparable with the full
vocabulary's) and an `<unk>` without training tokens are returned as notes, which the loader
records in `TextSplits.deviations` and logs.

Files are read line by line into int32 ids, not lists of strings: WikiText-103's 103M
training tokens take ~0.4 GB rather than several GB of Python strings. Every problem with a
file is one `DataError` naming it: unreadable, empty, gzip-compressed, binary, an HTML page,
not UTF-8 (with the line and the byte offset), or holding `<eos>`.
"""

from __future__ import annotations

import array
import collections
from collections.abc import Iterator, Sequence

import numpy as np

from enas_tf.data.corpus import EOS, UNK
from enas_tf.errors import DataError

MIN_VOCAB_SIZE = 3  # <eos>, <unk> and one word


# --------------------------------------------------------------------------------------------
# Reading.


def read_ids(path: str, index: dict[str, int], label: str = "Text", hint: str = "") -> np.ndarray:
    """The file's tokens as provisional ids, `<eos>` after each line.

    Args:
      path: the file.
      index: word -> provisional id; must hold `<eos>`. New words are added with the next id,
        so the splits of one corpus share one index and their ids can be compared.
      label, hint: the first and last words of error messages (the corpus, how to fix it).

    Returns:
      int32 [N] ids into `index`.

    Raises:
      DataError: see `read_words`.
    """
    keep_blank = path.endswith(".tokens")
    ids = array.array("i")
    eos = index[EOS]
    words = 0
    for tokens in _token_lines(path, label, hint):
        if tokens:
            words += len(tokens)
            ids.extend([index.setdefault(w, len(index)) for w in tokens])
            ids.append(eos)
        elif keep_blank:
            ids.append(eos)
    if not words:
        raise DataError(f"{label}: {path} is empty (no words). {hint}".rstrip())
    return np.frombuffer(ids, dtype=np.intc).astype(np.int32)


def read_words(path: str, label: str = "Text", hint: str = "") -> list[str]:
    """The tokens of a file as strings, `<eos>` after each line (for small files and tests).

    Raises:
      DataError: the file cannot be read, is binary, compressed, HTML, not UTF-8, has a
        literal `<eos>`, or holds no words.
    """
    keep_blank = path.endswith(".tokens")
    words: list[str] = []
    for tokens in _token_lines(path, label, hint):
        if tokens or keep_blank:
            words.extend(tokens)
            words.append(EOS)
    if len(words) == words.count(EOS):
        raise DataError(f"{label}: {path} is empty (no words). {hint}".rstrip())
    return words


def _token_lines(path: str, label: str, hint: str) -> Iterator[list[str]]:
    """The tokens of every line of `path` (blank lines too), checked as the file streams by."""

    def error(what: str) -> DataError:
        return DataError(f"{label}: {path} {what}. {hint}".rstrip())

    try:
        with open(path, "rb") as f:
            offset, number, started = 0, 0, False
            for raw in f:
                start, offset = offset, offset + len(raw)
                if start == 0:
                    if raw[:2] == b"\x1f\x8b":
                        raise error("is gzip-compressed; decompress it first")
                    if raw.startswith(b"\xef\xbb\xbf"):  # a byte-order mark (Windows editors)
                        raw, start = raw[3:], 3
                if b"\x00" in raw:
                    raise error("is a binary file, not tokenised text")
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise error(
                        f"is not UTF-8 text (line {number + 1}, byte {start + e.start} of the "
                        f"file: {e.reason}); convert it, e.g. iconv -f latin1 -t utf-8"
                    ) from e
                line = line[:-1] if line.endswith("\n") else line
                line = line[:-1] if line.endswith("\r") else line
                for part in line.split("\r"):
                    number += 1
                    tokens = part.split()
                    if tokens and not started:
                        started = True
                        if part.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
                            raise error("is an HTML page (a failed download?), not tokenised text")
                    if EOS in tokens:
                        raise error(
                            f"line {number} already contains {EOS!r}; this loader appends {EOS} "
                            "to every line itself, so give it the raw one-sentence-per-line files"
                        )
                    yield tokens
    except OSError as e:
        raise DataError(f"{label}: cannot read {path}: {e.strerror or e}. {hint}".rstrip()) from e


# --------------------------------------------------------------------------------------------
# Vocabulary.


def build_vocab(words: Sequence[str]) -> tuple[str, ...]:
    """Distinct words sorted by decreasing count, ties by word: deterministic ids."""
    counts = collections.Counter(words)
    return tuple(sorted(counts, key=lambda w: (-counts[w], w)))


def choose_vocabulary(
    words: Sequence[str],
    train_counts: np.ndarray,
    held_out: Sequence[tuple[str, np.ndarray]],
    cap: int,
    *,
    train_path: str,
    label: str = "Text",
    hint: str = "",
) -> tuple[tuple[str, ...], np.ndarray, list[str]]:
    """The vocabulary by the module docstring's rules, from provisional ids' counts.

    Args:
      words: provisional id -> word (every word of every split; `<eos>` is id 0).
      train_counts: int [len(words)] occurrences in the training file.
      held_out: (path, provisional ids) of the validation and test files.
      cap: `data.vocab_size` (0: no cap).
      train_path: the training file, for messages.
      label, hint: the first and last words of error messages.

    Returns:
      (vocabulary, int32 [len(words)] provisional id -> final id, notes for the deviations).

    Raises:
      DataError: the cap is below 3, or valid/test words fall outside an uncapped vocabulary
        that has no `<unk>`.
    """
    if cap != 0 and cap < MIN_VOCAB_SIZE:
        raise DataError(
            f"data.vocab_size={cap} must be 0 (keep every training word) or >= "
            f"{MIN_VOCAB_SIZE} (<eos>, <unk> and at least one word)."
        )
    counts = train_counts
    order = sorted(np.flatnonzero(counts).tolist(), key=lambda i: (-counts[i], words[i]))
    unk = words.index(UNK) if UNK in words else -1
    has_unk = unk >= 0 and counts[unk] > 0
    unseen = [(path, ids[counts[ids] == 0]) for path, ids in held_out]
    unseen = [(path, ids) for path, ids in unseen if ids.size]
    notes = []
    dropped: list[int] = []
    if not cap:
        if unseen and not has_unk:
            path, ids = unseen[0]
            examples = [words[i] for i in dict.fromkeys(ids[:1000].tolist())][:5]
            suggest = max(MIN_VOCAB_SIZE, int(np.count_nonzero(counts >= 2)) + 1)
            message = (
                f"{label}: {path} has {ids.size} token(s) (e.g. {', '.join(map(repr, examples))}"
                f") not in the vocabulary of {train_path}, which has no {UNK!r} to map them to. "
                f"--config.data.vocab_size=N keeps the N most frequent training words, {EOS} and "
                f"{UNK} included, and maps all others to {UNK} (e.g. N={suggest}: the words "
                f"seen twice or more). {hint}"
            )
            raise DataError(message.rstrip())
        entries = [(int(counts[i]), words[i]) for i in order]
    else:
        others = [i for i in order if i not in (0, unk)]
        need_unk = has_unk or len(order) > cap or bool(unseen)
        room = cap - 1 - int(need_unk)
        kept, dropped = others[:room], others[room:]
        entries = [(int(counts[i]), words[i]) for i in [0, *kept]]
        if need_unk:
            unk_count = int(counts[unk] if has_unk else 0) + int(counts[dropped].sum())
            entries.append((unk_count, UNK))
            if unk_count == 0:
                notes.append(
                    f"{UNK} stands for the valid/test words outside {train_path} but never "
                    "occurs in its text, so the model cannot learn to predict it "
                    f"(data.vocab_size={cap} keeps all {len(order)} training words; a cap of "
                    f"{len(order)} or less maps the rarest to {UNK})"
                )
        if dropped:
            share = counts[dropped].sum() / counts.sum()
            notes.append(
                f"vocabulary capped at {cap} words (data.vocab_size={cap}): {len(dropped)} "
                f"rarer training words ({share:.2%} of the training tokens) map to {UNK}; "
                f"perplexities are not comparable with results on the full {len(order)}-word "
                "vocabulary"
            )
    entries.sort(key=lambda e: (-e[0], e[1]))
    vocab = tuple(w for _, w in entries)
    final = {w: i for i, w in enumerate(vocab)}
    remap = np.array([final.get(w, final.get(UNK, -1)) for w in words], dtype=np.int32)
    return vocab, remap, notes

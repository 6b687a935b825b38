"""A word-level corpus in a directory: which files are its splits, and loading them.

`load_text_dir` finds the training, validation and test files of a directory and reads them
into `TextSplits` (`enas_tf.data.text_files` has the rules for lines and vocabulary);
`enas_tf.data.text.load_text_splits` calls it for every `data.source` but `'embedded'`.
Recognised by name, in the directory or in its `data/`, `simple-examples/data/`,
`wikitext-2/` or `wikitext-103/` (where the archives extract):

* Mikolov's pre-processed Penn Treebank: `ptb.train.txt`, `ptb.valid.txt`, `ptb.test.txt`;
* WikiText-2 or WikiText-103 (the tokenised release, not `-raw`): `wiki.train.tokens`,
  `wiki.valid.tokens`, `wiki.test.tokens`;
* `train.txt`, `valid.txt`, `test.txt` (PyTorch's word_language_model layout).

Other names are given with `data.train_file`, `data.valid_file` and `data.test_file`
(relative to `data.source`); then nothing is guessed and all are needed (valid_file may stay
empty under `data.valid_from_train_tail`). A directory that matches none of the layouts, or
two, is one error listing what was looked for and the keys to set: a run never trains on
files picked by luck.

`data.valid_from_train_tail` = N > 0 is an explicit DEVIATION for directories without a
validation file: the validation split is the last N tokens of the training file, removed from
train, and the validation file is not read even if present. Perplexities are then not
comparable with published ones; `TextSplits.deviations` says so and it is logged.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
from absl import logging

from enas_tf.data import text_files
from enas_tf.data.corpus import EOS, UNK, TextSplits
from enas_tf.errors import DataError

FILE_KEYS = ("train_file", "valid_file", "test_file")
_SET_NAMES = (
    "set --config.data.train_file=NAME --config.data.valid_file=NAME "
    "--config.data.test_file=NAME (paths relative to data.source) to name the files"
)
PTB_TRAIN, PTB_VALID, PTB_TEST = "ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"
PTB_FILES = (PTB_TRAIN, PTB_VALID, PTB_TEST)
PTB_HOW_TO_GET = (
    "Get Mikolov's pre-processed PTB: download "
    "http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz, extract it "
    "(tar xzf simple-examples.tgz) and pass --config.data.source=/path/to/simple-examples/data "
    "(or use --config.data.source=embedded, which needs no download)."
)


@dataclasses.dataclass(frozen=True)
class Layout:
    """The three files of a corpus and what to tell a user whose directory lacks one.

    Attributes:
      name: the corpus, first word of its errors ("PTB", "WikiText", "Text").
      train, valid, test: file names relative to the corpus directory (valid is "" when the
        validation split is the training file's tail).
      needs: "the directory needs ..." for errors about missing files.
      how_to_get: the last sentence of every error: where to get the data or what to set.
      valid_tokens: the standard validation split's size for the tail hint (0: none).
      closed_vocab: what words outside the training vocabulary mean for this corpus.
      keys: the config keys that named train, valid and test (user-named layouts only).
    """

    name: str
    train: str
    valid: str
    test: str
    needs: str
    how_to_get: str
    valid_tokens: int = 0
    closed_vocab: str = ""
    keys: tuple[str, ...] = ()

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(f for f in (self.train, self.valid, self.test) if f)


PTB = Layout(
    "PTB",
    *PTB_FILES,
    needs=(
        f"the directory needs {PTB_TRAIN}, {PTB_VALID} and {PTB_TEST} (Mikolov's "
        "simple-examples/data)"
    ),
    how_to_get=PTB_HOW_TO_GET,
    valid_tokens=73_760,
    closed_vocab=(
        "Mikolov's files share one closed 10,000-word vocabulary: check that the three files "
        "belong together."
    ),
)
WIKITEXT = Layout(
    "WikiText",
    "wiki.train.tokens",
    "wiki.valid.tokens",
    "wiki.test.tokens",
    needs=(
        "the directory needs wiki.train.tokens, wiki.valid.tokens and wiki.test.tokens "
        f"(WikiText-2 or WikiText-103); for files of other names, {_SET_NAMES}"
    ),
    how_to_get=(
        "Get WikiText-2 or WikiText-103 in its tokenised form (wikitext-2-v1.zip or "
        "wikitext-103-v1.zip, not -raw) and pass the extracted directory as "
        "--config.data.source."
    ),
)
PLAIN = Layout(
    "Text",
    "train.txt",
    "valid.txt",
    "test.txt",
    needs=f"the directory needs train.txt, valid.txt and test.txt; for other names, {_SET_NAMES}",
    how_to_get="",
)
LAYOUTS = (PTB, WIKITEXT, PLAIN)
SUBDIRS = ("data", os.path.join("simple-examples", "data"), "wikitext-2", "wikitext-103")
LOOKED_FOR = "; ".join(f"{', '.join(x.files)} ({x.name})" for x in LAYOUTS)


# --------------------------------------------------------------------------------------------
# Finding the files.


def find_ptb_dir(path: str) -> str:
    """Returns the directory with the PTB files: `path`, or its `data/` / `simple-examples/data/`.

    Raises:
      DataError: `path` does not exist or is not a directory.
    """
    path = _directory(path, PTB)
    if not os.path.exists(os.path.join(path, PTB_TRAIN)):
        for child in SUBDIRS:
            if os.path.isfile(os.path.join(path, child, PTB_TRAIN)):
                return os.path.join(path, child)
    return path


def find_layout(path: str, names: dict[str, str] | None = None) -> tuple[str, Layout]:
    """(directory, layout) of the corpus in `path`: the files `names` gives, else recognised.

    Args:
      path: `data.source`.
      names: `data.train_file` / `valid_file` / `test_file` by key; all empty (or None) to
        recognise the files by their names.

    Raises:
      DataError: `path` is no directory, its files match no layout or several, or `names`
        lacks a file or names one twice.
    """
    path = _directory(path, None)
    names = {key: str((names or {}).get(key) or "") for key in FILE_KEYS}
    if any(names.values()):
        missing = [f"data.{k}" for k in ("train_file", "test_file") if not names[k]]
        if missing:
            raise DataError(
                f"{' and '.join(missing)} must be set too: once data.train_file, "
                "data.valid_file or data.test_file is set nothing is guessed (valid_file may "
                "stay empty only with data.valid_from_train_tail > 0)."
            )
        given = [n for n in names.values() if n]
        if len(set(given)) < len(given):
            raise DataError(
                f"data.train_file, data.valid_file and data.test_file name one file twice "
                f"({', '.join(given)}): the three splits must be different files."
            )
        keys = tuple(f"data.{k}" for k in FILE_KEYS)
        layout = Layout(
            "Text",
            *names.values(),
            needs=f"{', '.join(keys)} name the files, relative to data.source={path}",
            how_to_get="",
            keys=keys,
        )
        return path, layout
    # The training file decides, here or where an archive extracts to; failing that, a lone
    # validation or test file here says which corpus is incomplete.
    for directory in (path, *(os.path.join(path, s) for s in SUBDIRS)):
        found = [x for x in LAYOUTS if os.path.isfile(os.path.join(directory, x.train))]
        if found:
            return directory, _one(found, path, directory)
    found = [x for x in LAYOUTS if any(os.path.exists(os.path.join(path, f)) for f in x.files)]
    if found:
        return path, _one(found, path, path)
    try:
        entries = sorted(os.listdir(path))
    except OSError as e:
        raise DataError(f"data.source={path} cannot be listed: {e.strerror or e}.") from e
    more = f" and {len(entries) - 8} more" if len(entries) > 8 else ""
    holds = f"it holds {', '.join(entries[:8])}{more}" if entries else "it is empty"
    raise DataError(
        f"data.source={path} has no training/validation/test text this loader knows: it looked "
        f"for {LOOKED_FOR} in {path} and its {', '.join(d + '/' for d in SUBDIRS)}; {holds}. "
        f"For files of other names, {_SET_NAMES}. {PTB_HOW_TO_GET}"
    )


def _one(found: list[Layout], path: str, directory: str) -> Layout:
    """The one layout found, or an error naming the corpora that share the directory."""
    if len(found) > 1:
        raise DataError(
            f"data.source={path}: {directory} holds the files of "
            f"{' and '.join(f'{x.name} ({x.train})' for x in found)}; {_SET_NAMES} to use."
        )
    return found[0]


def _directory(path: str, layout: Layout | None) -> str:
    """`path` with `~` expanded, checked to be a directory."""
    path = os.path.expanduser(path)
    if not os.path.isdir(path):
        what = "is not a directory" if os.path.exists(path) else "does not exist"
        if layout is not None:
            message = f"{layout.name}: {path} {what}; {layout.needs}. {layout.how_to_get}"
            raise DataError(message.rstrip())
        raise DataError(
            f"data.source={path} {what}: it must be a directory with training, validation and "
            f"test text ({LOOKED_FOR}), or 'embedded'. {PTB_HOW_TO_GET}"
        )
    return path


# --------------------------------------------------------------------------------------------
# Loading.


def load_ptb(path: str, valid_from_train_tail: int = 0, vocab_size: int = 0) -> TextSplits:
    """Reads Mikolov's pre-processed Penn Treebank from `path` (or its `data/` or
    `simple-examples/data/`); the arguments are `load_text_dir`'s."""
    _check_options(vocab_size, valid_from_train_tail, False)
    return _load(find_ptb_dir(path), PTB, int(vocab_size), int(valid_from_train_tail))


def load_text_dir(
    path: str,
    *,
    train_file: str = "",
    valid_file: str = "",
    test_file: str = "",
    vocab_size: int = 0,
    valid_from_train_tail: int = 0,
) -> TextSplits:
    """Reads the word-level corpus in a directory (the module docstring says which files).

    Args:
      path: the directory (`data.source`).
      train_file, valid_file, test_file: file names relative to `path`; all "" to recognise
        PTB's, WikiText's or train/valid/test.txt.
      vocab_size: 0 for every training word; N >= 3 for at most N words, `<eos>` and `<unk>`
        included, the others mapped to `<unk>` (`enas_tf.data.text_files`).
      valid_from_train_tail: 0 for the validation file; N > 0 makes the last N training
        tokens the validation split instead (a deviation, recorded in the result).

    Returns:
      TextSplits; the vocabulary comes from the whole training file (also when its tail
      becomes the validation split, so the ids are those of the standard vocabulary).

    Raises:
      DataError: the directory or a file is missing, empty or malformed, an option is out of
        range, valid/test have words outside an uncapped vocabulary without `<unk>`, or the
        tail is too long.
    """
    _check_options(vocab_size, valid_from_train_tail, bool(valid_file))
    names = dict(train_file=train_file, valid_file=valid_file, test_file=test_file)
    directory, layout = find_layout(path, names)
    return _load(directory, layout, int(vocab_size), int(valid_from_train_tail))


def _check_options(vocab_size: int, tail: int, valid_named: bool) -> None:
    """Refuses options no directory can satisfy, before any file is read."""
    if vocab_size != 0 and vocab_size < text_files.MIN_VOCAB_SIZE:
        raise DataError(
            f"data.vocab_size={vocab_size} must be 0 (keep every training word) or >= "
            f"{text_files.MIN_VOCAB_SIZE} (<eos>, <unk> and at least one word)."
        )
    if tail < 0:
        raise DataError(
            f"data.valid_from_train_tail={tail} must be >= 0 (0 = use the validation file; "
            "N > 0 = the last N tokens of the training file)."
        )
    if tail and valid_named:
        raise DataError(
            f"data.valid_file and data.valid_from_train_tail={tail} are both set: the "
            "validation split is either a file or the training file's tail; set one of them."
        )


def _load(directory: str, layout: Layout, vocab_size: int, tail: int) -> TextSplits:
    if not tail and not layout.valid:
        raise DataError(
            "data.valid_file is empty: name the validation file, or set "
            "data.valid_from_train_tail=N to use the last N training tokens instead."
        )
    path = {f: os.path.join(directory, f) for f in layout.files}
    needed = (layout.train, layout.test) if tail else layout.files
    missing = [f for f in needed if not os.path.exists(path[f])]
    if missing:
        _raise_missing(layout, directory, missing)
    label, hint = layout.name, layout.how_to_get
    index = {EOS: 0}  # word -> provisional id, in order of appearance, shared by the splits
    train = text_files.read_ids(path[layout.train], index, label, hint)
    valid = None if tail else text_files.read_ids(path[layout.valid], index, label, hint)
    test = text_files.read_ids(path[layout.test], index, label, hint)
    held_out = [(path[layout.test], test)]
    if valid is not None:
        held_out.insert(0, (path[layout.valid], valid))
    vocab, remap, notes = text_files.choose_vocabulary(
        list(index),
        np.bincount(train, minlength=len(index)),
        held_out,
        vocab_size,
        train_path=path[layout.train],
        label=label,
        hint=f"{layout.closed_vocab} {hint}".strip(),
    )
    train, test = remap[train], remap[test]
    if tail:
        train, valid = _carve_tail(train, tail, layout, path[layout.train], notes)
    else:
        valid = remap[valid]
    for note in notes:
        logging.warning("%s: %s.", layout.name, note)
    word_to_id = {w: i for i, w in enumerate(vocab)}
    named = f" ({', '.join(layout.files)})" if layout.keys else ""
    return TextSplits(
        train=train,
        valid=valid,
        test=test,
        vocab=vocab,
        eos_id=word_to_id[EOS],
        unk_id=word_to_id.get(UNK),
        source=f"{layout.name} {directory}{named}",
        deviations=tuple(notes),
    )


def _carve_tail(train, tail: int, layout: Layout, train_path: str, notes: list[str]):
    """(train, valid) with valid = the last `tail` training tokens; notes the deviation."""
    if tail >= len(train):
        standard = (
            f" ({layout.name}'s own validation split has {layout.valid_tokens} tokens)"
            if layout.valid_tokens
            else ""
        )
        raise DataError(
            f"data.valid_from_train_tail={tail} leaves no training data: {train_path} has "
            f"{len(train)} tokens. Use a smaller tail{standard}."
        )
    unused = f"{layout.valid} not used" if layout.valid else "no validation file"
    standard = (
        f"published {layout.name} results"
        if layout in (PTB, WIKITEXT)
        else "those on a separate validation file"
    )
    notes.insert(
        0,
        f"validation split = the last {tail} tokens of {train_path} (valid_from_train_tail="
        f"{tail}), removed from train; {unused}: perplexities are not comparable with "
        f"{standard}",
    )
    return train[:-tail], train[-tail:]


def _raise_missing(layout: Layout, directory: str, missing: list[str]):
    """One error for the missing files (names relative to `directory`)."""
    hint = ""
    if missing == [layout.valid]:
        standard = (
            f"; {layout.name}'s own validation split has {layout.valid_tokens} tokens"
            if layout.valid_tokens
            else ""
        )
        hint = (
            f" If you only have {layout.train} and {layout.test}, set "
            f"--config.data.valid_from_train_tail=N to use the last N tokens of {layout.train} "
            "as the validation split instead (a deviation from the standard split: "
            f"perplexities are then not comparable with published ones{standard})."
        )
    named = dict(zip((layout.train, layout.valid, layout.test), layout.keys, strict=False))
    paths = [os.path.join(directory, f) + (f" ({named[f]})" if f in named else "") for f in missing]
    message = (
        f"{layout.name}: {' and '.join(paths)} {'does' if len(paths) == 1 else 'do'} not "
        f"exist; {layout.needs}.{hint} {layout.how_to_get}"
    )
    raise DataError(message.rstrip())

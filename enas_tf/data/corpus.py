"""A tokenised language-modelling corpus: its splits as id streams and its vocabulary.

Its own module so that every corpus reader (`text_dirs` for directories of text files,
`embedded_text` for the generated corpus) builds the same type without importing another
reader.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Iterable, Mapping

import numpy as np

from enas_tf.errors import DataError

EOS = "<eos>"
UNK = "<unk>"


@dataclasses.dataclass(frozen=True, eq=False)
class TextSplits:
    """Token-id streams of a language-modelling corpus and its vocabulary.

    Each split is one int32 [N] stream of ids into `vocab`, sentences ending in `eos_id`;
    sentence boundaries are not otherwise marked because the model reads the splits as
    continuous text (hidden state carried across sentences and windows).

    Attributes:
      train: int32 [N_train] ids.
      valid: int32 [N_valid] ids (controller rewards in the search, model selection).
      test: int32 [N_test] ids.
      vocab: the words by id.
      eos_id: id of `<eos>`.
      unk_id: id of `<unk>`, or None if the vocabulary has none.
      source: a human-readable description of where the data came from, for logs.
      deviations: departures from the standard splits (empty for standard data), e.g. a
        validation split carved from the training file. Record them with the results.
    """

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    vocab: tuple[str, ...]
    eos_id: int
    unk_id: int | None
    source: str = ""
    deviations: tuple[str, ...] = ()

    def __post_init__(self):
        if len(set(self.vocab)) != len(self.vocab):
            raise DataError("TextSplits: the vocabulary has duplicate words.")
        if self.vocab[self.eos_id] != EOS:
            raise DataError(f"TextSplits: eos_id={self.eos_id} is not {EOS!r}.")
        if self.unk_id is not None and self.vocab[self.unk_id] != UNK:
            raise DataError(f"TextSplits: unk_id={self.unk_id} is not {UNK!r}.")
        for name in ("train", "valid", "test"):
            ids = getattr(self, name)
            if not isinstance(ids, np.ndarray) or ids.dtype != np.int32 or ids.ndim != 1:
                raise DataError(f"TextSplits.{name} must be an int32 [N] numpy array.")
            if ids.size and (ids.min() < 0 or ids.max() >= len(self.vocab)):
                raise DataError(f"TextSplits.{name} has ids outside [0, {len(self.vocab)}).")

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def id_to_word(self) -> tuple[str, ...]:
        """`id_to_word[i]` is the word of id i (the vocabulary itself)."""
        return self.vocab

    @functools.cached_property
    def word_to_id(self) -> Mapping[str, int]:
        """Read-only word -> id mapping."""
        return types.MappingProxyType({w: i for i, w in enumerate(self.vocab)})

    def decode(self, ids: Iterable[int]) -> str:
        """Ids -> space-separated words, for printing samples."""
        return " ".join(self.vocab[int(i)] for i in ids)

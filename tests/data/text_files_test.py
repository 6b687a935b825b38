"""Tests for enas_tf.data.text_files: line rules, read errors naming the file, the vocabulary.

Every corpus is a few lines written to tmp_path by the test itself.
"""

import numpy as np
import pytest

from enas_tf.data import text_files
from enas_tf.data.corpus import EOS, UNK
from enas_tf.errors import DataError


def _write(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def _choose(train, held_out=(), cap=0):
    """choose_vocabulary on word lists, through the provisional ids the loader would build."""
    index = {EOS: 0}
    ids = [
        np.array([index.setdefault(w, len(index)) for w in split], np.int32)
        for split in (train, *held_out)
    ]
    words = list(index)
    vocab, remap, notes = text_files.choose_vocabulary(
        words,
        np.bincount(ids[0], minlength=len(words)),
        [(f"held_out_{i}", split) for i, split in enumerate(ids[1:])],
        cap,
        train_path="train.txt",
    )
    decode = [[vocab[remap[i]] for i in split] for split in ids]
    return vocab, decode, notes


# ------------------------------------------------------------------------------------ lines


def test_wikitext_blank_lines_are_an_eos_of_their_own(tmp_path):
    content = " \n = Valkyria = \n \n Senjō no <unk> 3 . \n"
    path = _write(tmp_path / "wiki.train.tokens", content)
    expected = [EOS, "=", "Valkyria", "=", EOS, EOS, "Senjō", "no", UNK, "3", ".", EOS]
    assert text_files.read_words(path) == expected
    index = {EOS: 0}
    ids = text_files.read_ids(path, index)
    assert [list(index)[i] for i in ids] == expected and ids.dtype == np.int32
    # The same lines under another name: blank lines are formatting, skipped (PTB's rule).
    other = _write(tmp_path / "train.txt", content)
    assert text_files.read_words(other) == expected[1:5] + expected[6:]


def test_splits_share_one_index(tmp_path):
    index = {EOS: 0}
    train = text_files.read_ids(_write(tmp_path / "a.txt", "x y\nz\n"), index)
    valid = text_files.read_ids(_write(tmp_path / "b.txt", "z new\n"), index)
    assert list(index) == [EOS, "x", "y", "z", "new"]
    np.testing.assert_array_equal(train, [1, 2, 0, 3, 0])
    np.testing.assert_array_equal(valid, [3, 4, 0])


@pytest.mark.parametrize(
    "content, match",
    [
        ("", "is empty \\(no words\\)"),
        (" \n \n", "is empty \\(no words\\)"),
        (b"ok line\nsecond caf\xe9\n", "is not UTF-8 text \\(line 2, byte 18 of the file: "),
        (b"\xef\xbb\xbfab\xff\n", "is not UTF-8 text \\(line 1, byte 5 of the file: "),
        (b"\x1f\x8b\x08\x00", "is gzip-compressed"),
        (b"a\x00b\n", "is a binary file"),
        ("\n<html><body>Not found</body></html>\n", "is an HTML page"),
        ("a b\nc <eos> d\n", "line 2 already contains '<eos>'"),
    ],
)
def test_a_bad_file_is_one_line_naming_it(tmp_path, content, match):
    path = _write(tmp_path / "wiki.valid.tokens", content)
    for read in (text_files.read_words, lambda p: text_files.read_ids(p, {EOS: 0})):
        with pytest.raises(DataError, match=match) as error:
            read(path)
        message = str(error.value)
        assert message.startswith(f"Text: {path} ") and "\n" not in message


def test_a_missing_file_is_named(tmp_path):
    path = str(tmp_path / "nowhere.txt")
    with pytest.raises(DataError, match="cannot read") as error:
        text_files.read_ids(path, {EOS: 0}, "WikiText", "How to get it.")
    assert str(error.value) == (
        f"WikiText: cannot read {path}: No such file or directory. How to get it."
    )


# ------------------------------------------------------------------------------- vocabulary


def test_uncapped_vocabulary_is_every_training_word_by_count_then_word():
    vocab, (train,), notes = _choose("b a c <eos> a b <eos>".split())
    assert vocab == ("<eos>", "a", "b", "c") and notes == []
    assert train == "b a c <eos> a b <eos>".split()


def test_a_cap_maps_rare_words_to_unk_and_is_the_exact_size():
    train = "the the the the cat cat cat sat sat on a mat <eos> the cat <eos>".split()
    vocab, (mapped, valid), notes = _choose(train, ["the dog sat <eos>".split()], cap=5)
    # Counts: the 5, cat 4, sat 2, <eos> 2, on/a/mat 1: 3 words are dropped, <unk> gets 3.
    assert vocab == ("the", "cat", UNK, "<eos>", "sat") and len(vocab) == 5
    assert mapped == train[:9] + [UNK, UNK, UNK] + train[12:]
    assert valid == ["the", UNK, "sat", "<eos>"]  # unseen 'dog' too
    assert len(notes) == 1 and "capped at 5 words" in notes[0] and "3 rarer" in notes[0]


def test_a_cap_keeps_an_existing_unk_and_counts_what_it_absorbs():
    train = "a a a b b <unk> c <eos>".split()
    vocab, (mapped,), _ = _choose(train, cap=4)
    # 'c' joins <unk>: <unk> 2 ties with b (2) and sorts first ('<' < 'b').
    assert vocab == ("a", UNK, "b", "<eos>")
    assert mapped == "a a a b b <unk> <unk> <eos>".split()


def test_a_cap_at_or_above_the_vocabulary_changes_nothing():
    train = "x y y <unk> <eos>".split()
    assert _choose(train, [["z"]])[0] == _choose(train, [["z"]], cap=4)[0]
    vocab, _, notes = _choose(train, [["z"]], cap=100)
    assert vocab == ("y", "<eos>", UNK, "x") and notes == []


def test_a_cap_with_unseen_words_adds_unk_and_notes_it_never_trains():
    vocab, (_, valid), notes = _choose("p q <eos>".split(), ["p zebra <eos>".split()], cap=10)
    assert vocab == ("<eos>", "p", "q", UNK) and valid == ["p", UNK, "<eos>"]
    assert len(notes) == 1 and "never occurs" in notes[0]
    # At the training vocabulary's size, the rarest word makes room for <unk> and teaches it.
    vocab, _, notes = _choose("p q q <eos>".split(), ["p zebra <eos>".split()], cap=3)
    assert vocab == ("q", "<eos>", UNK) and len(notes) == 1 and "capped at 3" in notes[0]


def test_uncapped_unseen_words_without_unk_suggest_a_cap():
    with pytest.raises(DataError) as error:
        _choose("a a b <eos> a".split(), ["a zebra zebra <eos>".split()])
    message = str(error.value)
    assert "held_out_0 has 2 token(s) (e.g. 'zebra') not in the vocabulary of train.txt" in message
    assert "--config.data.vocab_size=N" in message and "N=3" in message


@pytest.mark.parametrize("cap", [1, 2, -5])
def test_a_cap_below_three_names_the_key(cap):
    with pytest.raises(DataError, match=f"data.vocab_size={cap} must be 0 .* or >= 3"):
        _choose("a b <eos>".split(), cap=cap)

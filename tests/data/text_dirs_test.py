"""Tests for enas_tf.data.text_dirs: which files of a directory are the splits, and its errors.

Every corpus is a few lines written to tmp_path by the test itself (PTB's own reading is
tested in text_test.py).
"""

import logging

import numpy as np
import pytest

from enas_tf.data import text_dirs
from enas_tf.data.corpus import EOS, UNK
from enas_tf.errors import DataError

WIKI = text_dirs.WIKITEXT.files
# WikiText's shape: a blank line, a heading, a blank line, paragraphs; rare words are <unk>.
WIKI_TRAIN = " \n = Gallia = \n \n the war of <unk> began . \n the war ended . \n"
WIKI_VALID = " \n = = Plot = = \n \n the war began . \n"
WIKI_TEST = " \n the <unk> ended . \n"


def _corpus(directory, names, contents):
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in zip(names, contents, strict=True):
        if content is not None:
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
    return directory


def _wikitext(directory, valid=WIKI_VALID, test=WIKI_TEST):
    return _corpus(directory, WIKI, (WIKI_TRAIN, valid, test))


def test_wikitext_names_are_recognised_and_read_with_their_blank_lines(tmp_path):
    splits = text_dirs.load_text_dir(str(_wikitext(tmp_path / "wt2")))
    assert splits.source == f"WikiText {tmp_path / 'wt2'}"
    # One <eos> per line, blank ones included: 5 lines + 13 words.
    assert len(splits.train) == 18 and splits.decode(splits.train[:5]) == "<eos> = Gallia = <eos>"
    assert splits.vocab[:5] == (EOS, ".", "=", "the", "war")  # 5, then 2 each by word
    assert splits.unk_id == splits.word_to_id[UNK]
    assert splits.decode(splits.test) == "<eos> the <unk> ended . <eos>"
    # 'Plot' is no training word: the corpus's own <unk> stands for it.
    assert splits.decode(splits.valid) == "<eos> = = <unk> = = <eos> <eos> the war began . <eos>"
    assert splits.deviations == ()


@pytest.mark.parametrize("subdir", ["wikitext-2", "wikitext-103", "data"])
def test_the_archive_root_is_accepted(tmp_path, subdir):
    _wikitext(tmp_path / subdir)
    assert text_dirs.find_layout(str(tmp_path)) == (str(tmp_path / subdir), text_dirs.WIKITEXT)


def test_train_valid_test_txt_are_recognised(tmp_path):
    directory = _corpus(tmp_path, text_dirs.PLAIN.files, ("a b\n\nb c\n", "a\n", "c\n"))
    splits = text_dirs.load_text_dir(str(directory))
    assert splits.vocab == (EOS, "b", "a", "c") and splits.source.startswith("Text ")


def test_custom_names_are_read_from_the_keys(tmp_path):
    names = ("corpus/my-train.txt", "corpus/heldout.txt", "final.txt")
    _corpus(tmp_path, names, ("x y z\ny\n", "y x\n", "z\n"))
    _corpus(tmp_path, WIKI, (WIKI_TRAIN, WIKI_VALID, WIKI_TEST))  # present, not used
    splits = text_dirs.load_text_dir(
        str(tmp_path), train_file=names[0], valid_file=names[1], test_file=names[2]
    )
    assert splits.vocab == (EOS, "y", "x", "z")
    assert splits.decode(splits.valid) == "y x <eos>" and splits.decode(splits.test) == "z <eos>"
    assert names[0] in splits.source and names[2] in splits.source


def test_custom_names_with_the_validation_split_from_the_training_tail(tmp_path, caplog):
    _corpus(tmp_path, ("tr.txt", "te.txt"), ("a b c d e f g h\n", "a\n"))
    with caplog.at_level(logging.WARNING):
        splits = text_dirs.load_text_dir(
            str(tmp_path), train_file="tr.txt", test_file="te.txt", valid_from_train_tail=3
        )
    assert splits.decode(splits.valid) == "g h <eos>" and len(splits.train) == 6
    assert "no validation file" in splits.deviations[0] and "last 3 tokens" in caplog.text


@pytest.mark.parametrize(
    "names, match",
    [
        (dict(train_file="a.txt"), "data.test_file must be set too"),
        (dict(valid_file="a.txt"), "data.train_file and data.test_file must be set too"),
        (dict(train_file="a", valid_file="b", test_file="a"), "name one file twice"),
        (dict(train_file="a", test_file="b"), "data.valid_file is empty"),
    ],
)
def test_incomplete_or_inconsistent_names(tmp_path, names, match):
    with pytest.raises(DataError, match=match):
        text_dirs.load_text_dir(str(tmp_path), **names)


def test_a_named_file_that_is_missing_names_its_key(tmp_path):
    _corpus(tmp_path, ("tr.txt", "te.txt"), ("a b\n", "a\n"))
    with pytest.raises(DataError) as error:
        text_dirs.load_text_dir(
            str(tmp_path), train_file="tr.txt", valid_file="v.txt", test_file="te.txt"
        )
    message = str(error.value)
    assert message.startswith(f"Text: {tmp_path / 'v.txt'} (data.valid_file) does not exist")
    assert "valid_from_train_tail=N" in message  # only the validation file is missing


def test_valid_file_and_the_training_tail_exclude_each_other(tmp_path):
    with pytest.raises(DataError, match="data.valid_file and data.valid_from_train_tail=5"):
        text_dirs.load_text_dir(
            str(tmp_path), train_file="a", valid_file="b", test_file="c", valid_from_train_tail=5
        )


def test_wikitext_without_its_validation_file(tmp_path):
    directory = _wikitext(tmp_path, valid=None)
    with pytest.raises(DataError) as error:
        text_dirs.load_text_dir(str(directory))
    message = str(error.value)
    assert message.startswith(f"WikiText: {directory / WIKI[1]} does not exist; the directory")
    assert "valid_from_train_tail=N" in message and "wikitext-2-v1.zip" in message
    splits = text_dirs.load_text_dir(str(directory), valid_from_train_tail=4)
    assert splits.decode(splits.valid) == "war ended . <eos>"
    assert "published WikiText results" in splits.deviations[0]


def test_an_empty_directory_is_one_error_listing_what_was_looked_for(tmp_path):
    with pytest.raises(DataError) as error:
        text_dirs.load_text_dir(str(tmp_path))
    message = str(error.value)
    assert message.startswith(f"data.source={tmp_path} has no training/validation/test text")
    for name in (*text_dirs.PTB_FILES, *WIKI, "train.txt", "wikitext-103/"):
        assert name in message
    assert "it is empty" in message and "--config.data.train_file=NAME" in message
    assert "\n" not in message


def test_a_directory_of_other_files_lists_them(tmp_path):
    _corpus(tmp_path, [f"part{i}.txt" for i in range(10)], ["w\n"] * 10)
    with pytest.raises(DataError, match="it holds part0.txt, part1.txt, .* and 2 more"):
        text_dirs.load_text_dir(str(tmp_path))


def test_two_corpora_in_one_directory_are_refused(tmp_path):
    _wikitext(tmp_path)
    _corpus(tmp_path, text_dirs.PTB_FILES, ("a\n", "a\n", "a\n"))
    with pytest.raises(DataError, match="holds the files of PTB .* and WikiText"):
        text_dirs.load_text_dir(str(tmp_path))


@pytest.mark.parametrize("make, what", [(None, "does not exist"), ("file", "is not a directory")])
def test_source_must_be_a_directory(tmp_path, make, what):
    path = tmp_path / "source"
    if make:
        path.write_text("x")
    with pytest.raises(DataError, match=f"data.source={path} {what}"):
        text_dirs.load_text_dir(str(path))


@pytest.mark.parametrize(
    "content, match",
    [
        (b"fine\ncaf\xe9\n", "is not UTF-8 text \\(line 2, byte 8 of the file"),
        ("", "is empty \\(no words\\)"),
        (" \n \n", "is empty \\(no words\\)"),
    ],
)
@pytest.mark.parametrize("split", [0, 1, 2])
def test_a_bad_file_is_named(tmp_path, content, match, split):
    contents = [WIKI_TRAIN, WIKI_VALID, WIKI_TEST]
    contents[split] = content
    directory = _corpus(tmp_path, WIKI, contents)
    with pytest.raises(DataError, match=match) as error:
        text_dirs.load_text_dir(str(directory))
    assert str(error.value).startswith(f"WikiText: {directory / WIKI[split]} is ")


def test_a_vocabulary_cap_maps_rare_words_to_unk(tmp_path):
    # Counts: the 30, <eos> 30, w0 and w1 13, w2 and w3 11, w4-w6 4.
    train = "".join(f" w{i % 7} w{i % 4} the \n" for i in range(30))
    directory = _corpus(tmp_path, WIKI, (train, " w1 w6 rare \n", " the w5 \n"))
    full = text_dirs.load_text_dir(str(directory), vocab_size=20)  # open: 'rare' -> <unk>
    assert full.vocab_size == 10 and full.vocab[-1] == UNK  # 9 training words and <unk>
    assert "never occurs" in full.deviations[0]
    capped = text_dirs.load_text_dir(str(directory), vocab_size=6)
    assert capped.vocab_size == 6 and capped.unk_id is not None
    kept = set(capped.vocab) - {EOS, UNK}
    assert kept == {"the", "w0", "w1", "w2"}  # the most frequent, ties by word
    for name in ("train", "valid", "test"):
        words = full.decode(getattr(full, name)).split()
        expected = [w if w in capped.word_to_id else UNK for w in words]
        assert capped.decode(getattr(capped, name)).split() == expected
    assert capped.decode(capped.valid) == "w1 <unk> <unk> <eos>"
    assert "capped at 6 words" in capped.deviations[0]
    np.testing.assert_array_equal(
        capped.train == capped.unk_id,
        np.isin(full.train, [full.word_to_id[w] for w in ("w3", "w4", "w5", "w6")]),
    )


def test_a_cap_below_three_is_refused_before_reading(tmp_path):
    with pytest.raises(DataError, match="data.vocab_size=2 must be 0"):
        text_dirs.load_text_dir(str(tmp_path / "not even read"), vocab_size=2)

"""Tests for enas_tf.data.text: PTB reading, vocabulary, errors, config dispatch, BPTT batching.

PTB itself is only needed by the last tests, which skip when it is absent; everything else runs
on tiny corpora written to tmp_path.
"""

import logging
import os
import shutil

import ml_collections
import numpy as np
import pytest

from enas_tf.data import embedded_text, text, text_dirs
from enas_tf.errors import DataError

HOW_TO = "simple-examples"  # Every PTB error says where to get the data.
REAL_PTB_DIR = os.environ.get("ENAS_PTB_DIR", "/work/shared/data/ptb")


def _write(directory, name, content):
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _write_ptb(directory, train=" b a c \n a b \n", valid=" a c \n", test=" c b a \n"):
    """A tiny Mikolov-format corpus (leading/trailing spaces as in the real files)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in zip(text.PTB_FILES, (train, valid, test), strict=True):
        if content is not None:
            _write(directory, name, content)
    return directory


def _config(source, **overrides):
    config = ml_collections.ConfigDict(
        dict(
            source=str(source),
            valid_from_train_tail=0,
            embedded=dict(num_train_tokens=3000, num_valid_tokens=500, num_test_tokens=400, seed=5),
        )
    )
    config.update(overrides)
    return config


# ------------------------------------------------------------------------------ vocabulary


def test_vocabulary_by_count_then_word_with_eos_per_line(tmp_path):
    splits = text.load_ptb(str(_write_ptb(tmp_path / "ptb")))
    # Counts: <eos> 2, a 2, b 2, c 1; ties broken by the word ('<' sorts before letters).
    assert splits.vocab == ("<eos>", "a", "b", "c")
    assert splits.eos_id == 0 and splits.unk_id is None
    np.testing.assert_array_equal(splits.train, [2, 1, 3, 0, 1, 2, 0])  # b a c <eos> a b <eos>
    np.testing.assert_array_equal(splits.valid, [1, 3, 0])
    np.testing.assert_array_equal(splits.test, [3, 2, 1, 0])
    for ids in (splits.train, splits.valid, splits.test):
        assert ids.dtype == np.int32 and ids.ndim == 1
    assert splits.deviations == () and "ptb" in splits.source


def test_a_byte_order_mark_and_windows_or_mac_line_ends_are_not_part_of_words(tmp_path):
    content = "\ufeffw1 w2\r\nw2 w3\rw1\r\n".encode("utf-8")
    path = _write(tmp_path, "train.txt", content)
    assert text.read_words(str(path)) == ["w1", "w2", "<eos>", "w2", "w3", "<eos>", "w1", "<eos>"]


def test_vocabulary_is_deterministic_and_only_from_train(tmp_path):
    lines = [" the cat sat \n", " the dog ran \n", " a cat ran \n", " the end \n"]
    other = dict(valid=" the cat \n", test=" a dog \n")
    first = text.load_ptb(str(_write_ptb(tmp_path / "a", train="".join(lines), **other)))
    # Same counts in another line order: the same vocabulary (ids do not depend on order).
    second = text.load_ptb(str(_write_ptb(tmp_path / "b", train="".join(reversed(lines)), **other)))
    assert first.vocab == second.vocab
    assert first.vocab[:3] == ("<eos>", "the", "cat")  # 4, 3, then 2-count words by name.
    assert first.vocab == text.build_vocab(text.read_words(str(tmp_path / "a" / text.PTB_TRAIN)))
    # Valid/test words must come from train's vocabulary; they never add words.
    assert len(first.vocab) == len(set(" ".join(lines).split())) + 1


def test_blank_lines_and_missing_final_newline(tmp_path):
    directory = _write_ptb(tmp_path, train="x y\n\n   \nz", valid="x\n", test="y\n")
    assert text.read_words(str(directory / text.PTB_TRAIN)) == ["x", "y", "<eos>", "z", "<eos>"]


def test_words_outside_the_train_vocabulary_become_unk(tmp_path):
    directory = _write_ptb(tmp_path, train=" a <unk> b \n", valid=" a zebra \n", test=" q b \n")
    splits = text.load_ptb(str(directory))
    assert splits.unk_id == splits.word_to_id["<unk>"]
    np.testing.assert_array_equal(splits.valid, [splits.word_to_id["a"], splits.unk_id, 0])
    assert splits.decode(splits.test) == "<unk> b <eos>"


def test_words_outside_the_vocabulary_without_unk_are_an_error(tmp_path):
    directory = _write_ptb(tmp_path, train=" a b \n", valid=" a zebra zebra \n")
    with pytest.raises(DataError, match="has 2 token\\(s\\) .*'zebra'.* no '<unk>'") as error:
        text.load_ptb(str(directory))
    assert str(directory / text.PTB_VALID) in str(error.value)
    assert str(directory / text.PTB_TRAIN) in str(error.value)


def test_text_splits_accessors():
    splits = text.TextSplits(
        train=np.array([1, 2, 0], np.int32),
        valid=np.array([2, 0], np.int32),
        test=np.array([1, 0], np.int32),
        vocab=("<eos>", "hello", "world"),
        eos_id=0,
        unk_id=None,
    )
    assert splits.vocab_size == 3
    assert splits.id_to_word[2] == "world"
    assert splits.word_to_id["hello"] == 1 and dict(splits.word_to_id) == {
        "<eos>": 0,
        "hello": 1,
        "world": 2,
    }
    with pytest.raises(TypeError):
        splits.word_to_id["new"] = 3  # Read-only.
    assert splits.decode(splits.train) == "hello world <eos>"


@pytest.mark.parametrize(
    "overrides, match",
    [
        (dict(train=np.array([1, 2], np.int64)), "train must be an int32"),
        (dict(valid=np.array([[1]], np.int32)), "valid must be an int32"),
        (dict(test=np.array([3], np.int32)), "test has ids outside"),
        (dict(eos_id=1), "eos_id=1"),
        (dict(unk_id=1), "unk_id=1"),
        (dict(vocab=("<eos>", "a", "a")), "duplicate"),
    ],
)
def test_text_splits_validates(overrides, match):
    fields = dict(
        train=np.array([1, 0], np.int32),
        valid=np.array([2, 0], np.int32),
        test=np.array([1, 0], np.int32),
        vocab=("<eos>", "a", "b"),
        eos_id=0,
        unk_id=None,
    )
    fields.update(overrides)
    with pytest.raises(DataError, match=match):
        text.TextSplits(**fields)


# ----------------------------------------------------------------------------------- errors


def test_missing_directory(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError, match="does not exist") as error:
        text.load_ptb(str(missing))
    message = str(error.value)
    assert str(missing) in message and HOW_TO in message and text.PTB_VALID in message


def test_path_is_a_file(tmp_path):
    path = _write(tmp_path, "file.txt", "x")
    with pytest.raises(DataError, match="is not a directory") as error:
        text.load_ptb(str(path))
    assert str(path) in str(error.value)


def test_missing_valid_file_names_it_and_offers_the_tail_option(tmp_path):
    directory = _write_ptb(tmp_path, valid=None)
    with pytest.raises(DataError) as error:
        text.load_ptb(str(directory))
    message = str(error.value)
    assert message.startswith(
        f"PTB: {directory / text.PTB_VALID} does not exist; the directory needs ptb.train.txt, "
        "ptb.valid.txt and ptb.test.txt (Mikolov's simple-examples/data)."
    )
    assert "--config.data.valid_from_train_tail=N" in message and "not comparable" in message
    assert HOW_TO in message


def test_missing_files_are_all_listed(tmp_path):
    directory = _write_ptb(tmp_path, train=None, test=None)
    with pytest.raises(DataError, match="do not exist") as error:
        text.load_ptb(str(directory))
    message = str(error.value)
    assert str(directory / text.PTB_TRAIN) in message and str(directory / text.PTB_TEST) in message
    assert "valid_from_train_tail" not in message  # Only offered when valid alone is missing.


@pytest.mark.parametrize("name", text.PTB_FILES)
@pytest.mark.parametrize(
    "content, match",
    [
        ("", "is empty"),
        (" \n\n  \n", "is empty"),
        (b"\x1f\x8b\x08\x00garbage", "gzip-compressed"),
        (b"a b\x00c\n", "binary file"),
        (b"caf\xe9 au lait\n", "not UTF-8 text"),
        ("<!DOCTYPE html><html><body>404</body></html>\n", "HTML page"),
        (" a b <eos> c \n", "line 1 already contains '<eos>'"),
    ],
)
def test_empty_or_malformed_file_is_named(tmp_path, name, content, match):
    directory = _write_ptb(tmp_path)
    _write(directory, name, content)
    with pytest.raises(DataError, match=match) as error:
        text.load_ptb(str(directory))
    assert str(directory / name) in str(error.value) and HOW_TO in str(error.value)


def test_unreadable_entry_is_named(tmp_path):
    directory = _write_ptb(tmp_path, test=None)
    (directory / text.PTB_TEST).mkdir()  # Exists, but cannot be read as a file.
    with pytest.raises(DataError, match="cannot read") as error:
        text.load_ptb(str(directory))
    assert str(directory / text.PTB_TEST) in str(error.value)


def test_accepts_the_extracted_archive_root(tmp_path):
    _write_ptb(tmp_path / "simple-examples" / "data")
    assert text.load_ptb(str(tmp_path)).vocab == ("<eos>", "a", "b", "c")
    assert text.load_ptb(str(tmp_path / "simple-examples")).vocab == ("<eos>", "a", "b", "c")


# ----------------------------------------------------------------- valid_from_train_tail


def test_valid_from_train_tail_is_an_explicit_deviation(tmp_path, caplog):
    train = "".join(f" w{i % 7} w{i % 3} \n" for i in range(20))  # 60 tokens.
    full = text.load_ptb(
        str(_write_ptb(tmp_path / "full", train=train, valid=" w1 \n", test=" w2 \n"))
    )
    directory = _write_ptb(tmp_path / "no_valid", train=train, valid=None, test=" w2 \n")
    with caplog.at_level(logging.WARNING):
        splits = text.load_ptb(str(directory), valid_from_train_tail=9)
    # Vocabulary (and so ids) from the whole training file; valid = its last 9 tokens.
    assert splits.vocab == full.vocab
    np.testing.assert_array_equal(splits.valid, full.train[-9:])
    np.testing.assert_array_equal(splits.train, full.train[:-9])
    np.testing.assert_array_equal(splits.test, full.test)
    assert len(splits.deviations) == 1
    assert "last 9 tokens" in splits.deviations[0] and "not comparable" in splits.deviations[0]
    assert "valid_from_train_tail=9" in caplog.text


def test_valid_from_train_tail_ignores_an_existing_valid_file(tmp_path):
    directory = _write_ptb(tmp_path, valid=b"\x00 not even text")  # Never read.
    splits = text.load_ptb(str(directory), valid_from_train_tail=2)
    np.testing.assert_array_equal(splits.valid, [2, 0])  # "b <eos>" of the second line.
    assert text.PTB_VALID + " not used" in splits.deviations[0]


@pytest.mark.parametrize("tail, match", [(7, "leaves no training data"), (-1, "must be >= 0")])
def test_bad_valid_from_train_tail(tmp_path, tail, match):
    directory = _write_ptb(tmp_path)  # 7 training tokens.
    with pytest.raises(DataError, match=match):
        text.load_ptb(str(directory), valid_from_train_tail=tail)


# ------------------------------------------------------------------------- config dispatch


def test_load_text_splits_embedded():
    splits = text.load_text_splits(_config("embedded"))
    expected = embedded_text.make_embedded_corpus(3000, 500, 400, seed=5)
    for name in ("train", "valid", "test"):
        np.testing.assert_array_equal(getattr(splits, name), getattr(expected, name))
    assert splits.vocab == expected.vocab and len(splits.train) == 3000


def test_load_text_splits_directory_and_optional_keys(tmp_path):
    directory = _write_ptb(tmp_path / "ptb", valid=None)
    # Only `source` is required; valid_from_train_tail defaults to 0 (and then valid is needed).
    with pytest.raises(DataError, match="ptb.valid.txt does not exist"):
        text.load_text_splits(ml_collections.ConfigDict(dict(source=str(directory))))
    splits = text.load_text_splits(_config(directory, valid_from_train_tail=3))
    assert len(splits.valid) == 3 and splits.deviations


def test_load_text_splits_embedded_defaults():
    splits = text.load_text_splits(ml_collections.ConfigDict(dict(source="embedded")))
    assert (len(splits.train), len(splits.valid), len(splits.test)) == (100_000, 10_000, 10_000)


def test_load_text_splits_unknown_source(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(DataError, match="neither 'embedded' nor an existing directory") as error:
        text.load_text_splits(_config(missing))
    assert str(missing) in str(error.value) and HOW_TO in str(error.value)


def test_tail_option_does_not_apply_to_the_embedded_corpus():
    with pytest.raises(DataError, match="only applies to a PTB directory"):
        text.load_text_splits(_config("embedded", valid_from_train_tail=100))


@pytest.mark.parametrize("key, value", [("vocab_size", 100), ("train_file", "train.txt")])
def test_directory_options_do_not_apply_to_the_embedded_corpus(key, value):
    with pytest.raises(DataError, match=f"data.{key}={value!r} only applies to a PTB directory"):
        text.load_text_splits(_config("embedded", **{key: value}))


def _write_wikitext(directory, num_train, num_valid, num_test, seed=0):
    """A WikiText-shaped corpus: articles of headings, blank lines and paragraphs.

    Words follow a Zipf law over 200 types, so a vocabulary cap drops a long tail of rare
    ones; `<unk>` is already in the text, as in WikiText. Returns the training words.
    """
    rng = np.random.default_rng(seed)
    types = np.array(["<unk>"] + [f"w{i}" for i in range(199)])
    weights = 1.0 / np.arange(1, len(types) + 1)
    directory.mkdir(parents=True, exist_ok=True)
    train_words = []
    for name, size in zip(text_dirs.WIKITEXT.files, (num_train, num_valid, num_test), strict=True):
        lines, count = [], 0
        while count < size:
            lines += [" ", f" = w{rng.integers(50)} w{rng.integers(50)} = ", " "]
            for _ in range(rng.integers(1, 4)):
                words = rng.choice(types, size=rng.integers(8, 40), p=weights / weights.sum())
                lines.append(" " + " ".join(words) + " ")
                count += len(words) + 4
                if name.startswith("wiki.train"):
                    train_words += list(words)
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return train_words


def test_load_text_splits_reads_wikitext_custom_names_and_a_cap(tmp_path):
    _write_wikitext(tmp_path / "wikitext-2", 2000, 300, 300)
    splits = text.load_text_splits(_config(tmp_path, vocab_size=30))  # the archive root
    assert splits.source == f"WikiText {tmp_path / 'wikitext-2'}" and splits.vocab_size == 30
    assert "capped at 30 words" in splits.deviations[0]
    for name in text_dirs.WIKITEXT.files:
        os.rename(tmp_path / "wikitext-2" / name, tmp_path / name.replace("wiki.", "my."))
    names = dict(train_file="my.train.tokens", valid_file="my.valid.tokens")
    renamed = text.load_text_splits(_config(tmp_path, test_file="my.test.tokens", **names))
    assert renamed.vocab_size > 30 and renamed.unk_id is not None
    capped = text.load_text_splits(
        _config(tmp_path, test_file="my.test.tokens", vocab_size=30, **names)
    )
    assert capped.vocab == splits.vocab
    np.testing.assert_array_equal(capped.train, splits.train)  # .tokens: the same line rules


@pytest.mark.parametrize(
    "overrides, match",
    [
        (dict(vocab_size=2), "config.data.vocab_size=2: must be 0 .* or >= 3"),
        (dict(vocab_size=-1), "config.data.vocab_size=-1: must be 0"),
        (dict(valid_from_train_tail=-3), "config.data.valid_from_train_tail=-3: must be >= 0"),
        (dict(train_file="a.txt", valid_file="b.txt"), "config.data.test_file='': must be set"),
        (dict(train_file="a", test_file="b"), "config.data.valid_file='': must be set unless"),
        (
            dict(train_file="a", test_file="b", valid_file="c", valid_from_train_tail=9),
            "config.data.valid_file='c': .* empty if it is",
        ),
        (
            dict(train_file="a", valid_file="b", test_file="a"),
            "config.data.test_file='a': names the same file as data.train_file",
        ),
    ],
)
def test_validate_checks_the_text_data_keys(overrides, match):
    from configs import tiny
    from enas_tf import config as config_lib

    config = tiny.get_config("space=rnn")
    config_lib.validate(config)
    config.data.update(overrides)
    with pytest.raises(config_lib.ConfigError, match=match):
        config_lib.validate(config)


@pytest.mark.slow
def test_a_capped_wikitext_directory_runs_the_whole_pipeline_and_serves_unknown_words(tmp_path):
    """search -> derive -> retrain -> export on a WikiText-named corpus with a vocabulary cap;
    the SavedModel maps a word it never saw, and a rare word the cap dropped, to <unk>."""
    import tensorflow as tf

    from configs import tiny
    from enas_tf import pipeline

    train_words = _write_wikitext(tmp_path / "wt", 2000, 400, 400, seed=1)
    config = tiny.get_config("space=rnn")
    config.data.source = str(tmp_path / "wt")
    config.data.vocab_size = 40
    outputs = pipeline.run(config, str(tmp_path / "workdir"))

    result = outputs["retrain"]
    assert result["data"] == f"WikiText {tmp_path / 'wt'}"
    assert "capped at 40 words" in result["data_deviations"][0]
    assert 1.0 < result["test_perplexity"] < 10_000
    with open(os.path.join(outputs["export"], "vocab.txt")) as f:
        vocab = f.read().split("\n")[:-1]
    assert len(vocab) == 40 and "<unk>" in vocab and "<eos>" in vocab
    common = [w for w in ("w1", "w2", "w3") if w in vocab]
    rare = next(w for w in reversed(train_words) if w not in vocab)  # dropped by the cap

    serve = tf.saved_model.load(outputs["export"]).signatures["serving_default"]

    def log_probs(*words):
        out = serve(words=tf.constant([[*common, *words]]))
        assert out["next_word"].shape == (1, len(common) + len(words))
        assert set(out["next_word"].numpy().ravel().astype(str)) <= set(vocab)
        return out["log_probs"].numpy()

    unk = log_probs("<unk>")
    assert unk.shape == (1, len(common) + 1, 40)
    np.testing.assert_allclose(np.exp(unk).sum(axis=-1), 1.0, atol=1e-4)
    np.testing.assert_allclose(log_probs("never-seen-word"), unk, atol=1e-6)
    np.testing.assert_allclose(log_probs(rare), unk, atol=1e-6)
    assert not np.allclose(log_probs("<eos>"), unk)  # a known word is not <unk>


# ---------------------------------------------------------------------------------- batching


@pytest.mark.parametrize(
    "num_tokens, batch_size, bptt", [(103, 4, 5), (1000, 7, 13), (12, 1, 3), (20, 4, 4)]
)
def test_bptt_windows_are_contiguous_per_row(num_tokens, batch_size, bptt):
    ids = np.arange(num_tokens)  # Value = position in the stream.
    inputs, targets = text.bptt_batches(ids, batch_size, bptt)
    row_len = num_tokens // batch_size
    n = (row_len - 1) // bptt
    assert n == text.num_windows(num_tokens, batch_size, bptt) > 0
    assert inputs.shape == targets.shape == (n, batch_size, bptt)
    assert inputs.dtype == targets.dtype == np.int32
    # Targets are the inputs shifted by one in the original stream.
    np.testing.assert_array_equal(targets, inputs + 1)
    for b in range(batch_size):
        # Row b is the b-th contiguous chunk of the stream; its windows follow each other.
        np.testing.assert_array_equal(
            inputs[:, b].reshape(-1), np.arange(b * row_len, b * row_len + n * bptt)
        )
        for i in range(n - 1):
            # The last target of window i is the first input of window i + 1: the stream
            # continues exactly where the previous window stopped, so the carried state fits.
            assert targets[i, b, -1] == inputs[i + 1, b, 0] == inputs[i, b, -1] + 1
    # The tail (len % batch_size tokens) never appears.
    assert inputs.max() < batch_size * row_len and targets.max() < batch_size * row_len


def test_bptt_batches_on_words():
    ids = np.array([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])  # 11 tokens -> 2 rows of 5.
    inputs, targets = text.bptt_batches(ids, batch_size=2, bptt=2)
    np.testing.assert_array_equal(inputs, [[[5, 6], [10, 11]], [[7, 8], [12, 13]]])
    np.testing.assert_array_equal(targets, [[[6, 7], [11, 12]], [[8, 9], [13, 14]]])


def _collect(dataset):
    pairs = [(x.numpy(), y.numpy()) for x, y in dataset]
    if not pairs:
        return np.zeros((0,)), np.zeros((0,))
    xs, ys = zip(*pairs, strict=True)
    return np.stack(xs), np.stack(ys)


@pytest.mark.parametrize("batch_size, bptt", [(4, 5), (3, 1), (1, 20)])
def test_dataset_equals_numpy(batch_size, bptt):
    ids = np.random.default_rng(0).integers(0, 50, size=307)
    inputs, targets = text.bptt_batches(ids, batch_size, bptt)
    dataset = text.make_lm_dataset(ids, batch_size=batch_size, bptt=bptt)
    assert dataset.element_spec[0].shape.as_list() == [batch_size, bptt]
    assert dataset.element_spec[0].dtype.name == "int32"
    xs, ys = _collect(dataset)
    np.testing.assert_array_equal(xs, inputs)
    np.testing.assert_array_equal(ys, targets)


def test_dataset_resumes_at_a_window():
    ids = np.arange(403)
    inputs, targets = text.bptt_batches(ids, 4, 6)  # 16 windows.
    xs, ys = _collect(text.make_lm_dataset(ids, batch_size=4, bptt=6, start_window=5))
    np.testing.assert_array_equal(xs, inputs[5:])
    np.testing.assert_array_equal(ys, targets[5:])
    assert len(_collect(text.make_lm_dataset(ids, batch_size=4, bptt=6, start_window=16))[0]) == 0


def test_repeated_dataset_runs_epochs_in_order_and_resumes_across_them():
    ids = np.arange(103)
    inputs, _ = text.bptt_batches(ids, 4, 5)  # 4 windows an epoch.
    epochs = np.concatenate([inputs] * 4)
    xs, _ = _collect(text.make_lm_dataset(ids, batch_size=4, bptt=5, repeat=True).take(10))
    np.testing.assert_array_equal(xs, epochs[:10])
    resumed = text.make_lm_dataset(ids, batch_size=4, bptt=5, repeat=True, start_window=6)
    np.testing.assert_array_equal(_collect(resumed.take(7))[0], epochs[6:13])


@pytest.mark.parametrize(
    "ids, kwargs, match",
    [
        (np.arange(20), dict(batch_size=4, bptt=5), "fewer than the bptt \\+ 1 = 6"),
        (np.arange(20), dict(batch_size=0, bptt=4), "must both be > 0"),
        (np.arange(20), dict(batch_size=2, bptt=0), "must both be > 0"),
        (np.zeros((4, 5)), dict(batch_size=2, bptt=2), "1-D stream"),
    ],
)
def test_batching_errors(ids, kwargs, match):
    with pytest.raises(DataError, match=match):
        text.bptt_batches(ids, **kwargs)
    with pytest.raises(DataError, match=match):
        text.make_lm_dataset(ids, **kwargs)


@pytest.mark.parametrize("start", [-1, 5])
def test_start_window_out_of_range(start):
    with pytest.raises(DataError, match=f"start_window={start} must be in \\[0, 4\\]"):
        text.make_lm_dataset(np.arange(103), batch_size=4, bptt=5, start_window=start)


# --------------------------------------------------------------------------------- real PTB


def _real_ptb_dir() -> str:
    needed = (text.PTB_TRAIN, text.PTB_TEST)
    if not all(os.path.isfile(os.path.join(REAL_PTB_DIR, f)) for f in needed):
        pytest.skip(
            f"Real PTB not found in {REAL_PTB_DIR} (set ENAS_PTB_DIR to a directory with "
            "Mikolov's ptb.train.txt, ptb.valid.txt and ptb.test.txt to run this test)."
        )
    return REAL_PTB_DIR


def test_real_ptb_counts():
    directory = _real_ptb_dir()
    if not os.path.isfile(os.path.join(directory, text.PTB_VALID)):
        pytest.skip(f"{directory} has no {text.PTB_VALID}; see the next test.")
    splits = text.load_ptb(directory)
    assert len(splits.train) == 929_589  # Including one <eos> for each of its 42,068 lines.
    assert np.sum(splits.train == splits.eos_id) == 42_068
    assert len(splits.valid) == 73_760 and len(splits.test) == 82_430
    assert splits.vocab_size == 10_000 and splits.deviations == ()
    assert splits.vocab[0] == "the" and splits.vocab[splits.unk_id] == "<unk>"
    inputs, _ = text.bptt_batches(splits.train, 64, 35)
    assert inputs.shape == (414, 64, 35)


def test_real_ptb_without_its_valid_file(tmp_path):
    directory = _real_ptb_dir()
    partial = tmp_path / "ptb"
    partial.mkdir()
    for name in (text.PTB_TRAIN, text.PTB_TEST):
        try:
            os.symlink(os.path.join(directory, name), partial / name)
        except OSError:
            shutil.copy(os.path.join(directory, name), partial / name)
    with pytest.raises(DataError, match="ptb.valid.txt does not exist.*valid_from_train_tail"):
        text.load_ptb(str(partial))
    splits = text.load_ptb(str(partial), valid_from_train_tail=73_760)
    assert (len(splits.train), len(splits.valid)) == (929_589 - 73_760, 73_760)
    assert splits.vocab_size == 10_000 and splits.deviations

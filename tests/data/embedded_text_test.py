"""Tests for the embedded synthetic language: determinism, speed, structure, n-gram baselines.

The n-gram models here are the reference for the numbers in embedded_text's docstring: a
learned language model must beat them on the test split.
"""

import math
import time

import numpy as np
import pytest

from enas_tf.data import embedded_text
from enas_tf.errors import DataError

# Documented in enas_tf/data/embedded_text.py (default splits, test perplexity).
DOCUMENTED = {
    # seed: (unigram add-one, bigram add-one, bigram interpolated Kneser-Ney)
    0: (124.0, 47.9, 29.7),
    1: (124.2, 48.0, 29.8),
}
DOCUMENTED_GRAMMAR = {0: 9.6, 1: 9.5}
DOCUMENTED_GRAMMAR_NO_TOPIC_MEMORY = {0: 10.5}


@pytest.fixture(scope="module")
def default_corpora():
    return {seed: embedded_text.make_embedded_corpus(seed=seed) for seed in DOCUMENTED}


# ---------------------------------------------------------------- n-gram reference models


def _unigram_ppl(train, test, vocab_size):
    """Add-one unigram, scored on test[1:] like the bigrams (same tokens for all three)."""
    counts = np.bincount(train, minlength=vocab_size).astype(np.float64)
    p = (counts + 1) / (counts.sum() + vocab_size)
    return float(np.exp(-np.log(p[test[1:]]).mean()))


def _bigram_counts(train, vocab_size):
    counts = np.zeros((vocab_size, vocab_size))
    np.add.at(counts, (train[:-1], train[1:]), 1)
    return counts


def _bigram_add_one_ppl(train, test, vocab_size):
    counts = _bigram_counts(train, vocab_size)
    prev, nxt = test[:-1], test[1:]
    p = (counts[prev, nxt] + 1) / (counts.sum(1)[prev] + vocab_size)
    return float(np.exp(-np.log(p).mean()))


def _bigram_kneser_ney_ppl(train, test, vocab_size, discount=0.75):
    """Interpolated Kneser-Ney bigram; the continuation unigram is add-one smoothed."""
    counts = _bigram_counts(train, vocab_size)
    context = counts.sum(1)
    followers = (counts > 0).sum(1)  # N1+(v .)
    predecessors = (counts > 0).sum(0)  # N1+(. w)
    continuation = (predecessors + 1) / (predecessors.sum() + vocab_size)
    prev, nxt = test[:-1], test[1:]
    seen = np.maximum(context[prev], 1)
    p = np.where(
        context[prev] > 0,
        np.maximum(counts[prev, nxt] - discount, 0) / seen
        + discount * followers[prev] / seen * continuation[nxt],
        continuation[nxt],
    )
    return float(np.exp(-np.log(p).mean()))


def test_reference_models_are_proper_distributions():
    rng = np.random.default_rng(0)
    train, vocab_size = rng.integers(0, 6, size=200), 7  # Word 6 never seen.
    counts = _bigram_counts(train, vocab_size)
    for prev in range(vocab_size):
        # Scoring every possible next word after `prev` must sum to one.
        total = sum(
            math.exp(-math.log(_bigram_kneser_ney_ppl(train, np.array([prev, w]), vocab_size)))
            for w in range(vocab_size)
        )
        assert total == pytest.approx(1.0), (prev, counts[prev])


# ------------------------------------------------------------------------------ the corpus


def test_splits_format_and_vocabulary(default_corpora):
    splits = default_corpora[0]
    assert (len(splits.train), len(splits.valid), len(splits.test)) == (100_000, 10_000, 10_000)
    assert splits.vocab == embedded_text.vocabulary() and splits.vocab_size == 426
    assert splits.eos_id == 0 and splits.vocab[0] == "<eos>" and splits.unk_id is None
    for ids in (splits.train, splits.valid, splits.test):
        assert ids.dtype == np.int32 and ids.min() >= 0 and ids.max() < splits.vocab_size
        assert 11 < len(ids) / np.sum(ids == splits.eos_id) < 14  # ~12.4 tokens a sentence.
    # Every word of the fixed vocabulary occurs in the default training split.
    assert np.all(np.bincount(splits.train, minlength=splits.vocab_size) > 0)
    assert splits.deviations == () and "seed 0" in splits.source


def test_same_seed_identical_different_seed_differs(default_corpora):
    again = embedded_text.make_embedded_corpus(seed=0)
    for name in ("train", "valid", "test"):
        np.testing.assert_array_equal(getattr(again, name), getattr(default_corpora[0], name))
        assert not np.array_equal(getattr(default_corpora[1], name), getattr(again, name))
    assert default_corpora[1].vocab == again.vocab  # The vocabulary does not depend on it.
    assert not np.array_equal(again.valid, again.test[: len(again.valid)])


def test_sizes_are_exact_and_splits_independent():
    small = embedded_text.make_embedded_corpus(2_000, 300, 500, seed=3)
    large = embedded_text.make_embedded_corpus(5_000, 700, 500, seed=3)
    assert (len(small.train), len(small.valid), len(small.test)) == (2_000, 300, 500)
    np.testing.assert_array_equal(small.test, large.test)  # Independent of the other sizes.
    np.testing.assert_array_equal(small.train, large.train[:2_000])  # A prefix of the stream.
    np.testing.assert_array_equal(small.valid, large.valid[:300])


def test_generation_is_fast():
    start = time.perf_counter()
    embedded_text.make_embedded_corpus(seed=11)
    assert time.perf_counter() - start < 2.0  # ~0.25 s measured on 2 cores.


@pytest.mark.parametrize(
    "sizes, match",
    [
        ((0, 10, 10), "num_train_tokens=0"),
        ((10, -1, 10), "num_valid_tokens=-1"),
        ((10, 10, 0), "num_test_tokens=0"),
    ],
)
def test_bad_sizes_are_data_errors(sizes, match):
    with pytest.raises(DataError, match=match):
        embedded_text.make_embedded_corpus(*sizes, seed=0)


def test_brackets_are_balanced_and_nest(default_corpora):
    splits = default_corpora[0]
    ids = splits.word_to_id
    pairs = {ids["-lrb-"]: ids["-rrb-"], ids["``"]: ids["''"]}
    closers = set(pairs.values())
    depths, stack = [], []
    for token in splits.train[: np.flatnonzero(splits.train == splits.eos_id)[-1] + 1]:
        if token in pairs:
            stack.append(pairs[token])
            depths.append(len(stack))
        elif token in closers:
            assert stack and stack.pop() == token
        elif token == splits.eos_id:
            assert not stack  # Brackets never span sentences.
    assert len(depths) > 500 and max(depths) >= 2  # Frequent, and nested.


def test_number_agreement_is_marked():
    """Singular and plural forms are distinct words that follow the grammar's number."""
    vocab = set(embedded_text.vocabulary())
    lexicon = embedded_text.lexicon()
    for key, slot in lexicon.slots.items():
        for ids in [*slot.topic_ids, slot.shared_ids]:
            for i in ids:
                word = lexicon.vocab[i]
                marked = key[2] == 1  # plural nouns / singular verbs
                assert word.endswith("s") == marked
                if marked:
                    assert word[:-1] in vocab  # The other form exists too.


def test_lexical_probabilities_are_normalised():
    lexicon = embedded_text.lexicon()
    for slot in lexicon.slots.values():
        members = [i for ids in slot.topic_ids for i in ids] + list(slot.shared_ids)
        for topic in range(embedded_text.NUM_TOPICS):
            total = np.exp(lexicon.lexical_logp[members, topic]).sum()
            assert total == pytest.approx(1.0)


# ----------------------------------------------------------------------------- baselines


@pytest.mark.parametrize("seed", sorted(DOCUMENTED))
def test_ngram_baselines_are_as_documented(default_corpora, seed):
    splits = default_corpora[seed]
    v = splits.vocab_size
    unigram = _unigram_ppl(splits.train, splits.test, v)
    add_one = _bigram_add_one_ppl(splits.train, splits.test, v)
    kneser_ney = _bigram_kneser_ney_ppl(splits.train, splits.test, v)
    measured = (round(unigram, 1), round(add_one, 1), round(kneser_ney, 1))
    assert measured == DOCUMENTED[seed], "update the table in embedded_text's docstring"
    # The previous word matters a lot, and the better smoothing is clearly better.
    assert unigram > 3.5 * kneser_ney and add_one > 1.4 * kneser_ney


@pytest.mark.parametrize("seed", sorted(DOCUMENTED_GRAMMAR))
def test_grammar_perplexity_is_as_documented(seed):
    ppl = embedded_text.grammar_perplexity(seed=seed)
    assert round(ppl, 1) == DOCUMENTED_GRAMMAR[seed]
    # Far below the best bigram: there is much to learn beyond the previous word.
    assert ppl < DOCUMENTED[seed][2] / 2.5
    if seed in DOCUMENTED_GRAMMAR_NO_TOPIC_MEMORY:
        forgetful = embedded_text.grammar_perplexity(seed=seed, carry_topic=False)
        assert round(forgetful, 1) == DOCUMENTED_GRAMMAR_NO_TOPIC_MEMORY[seed]
        assert forgetful > 1.05 * ppl  # Remembering the topic across <eos> is worth >5%.


def test_grammar_perplexity_bad_split():
    with pytest.raises(DataError, match="split='dev'"):
        embedded_text.grammar_perplexity(split="dev")

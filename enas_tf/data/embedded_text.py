"""An embedded synthetic language: ENAS recurrent-cell search without downloading anything.

PTB cannot ship with the project (LDC licence), yet the quickstart and the tests need a corpus
that exists on every machine, generates in a fraction of a second, and on which a recurrent
cell that remembers more does better. Random tokens would not do (nothing to learn), nor would
a Markov chain (a bigram table would already be optimal). This corpus comes from a small
probabilistic grammar whose dependencies span from one token to several sentences:

* Number agreement across centre embedding. Subjects are singular or plural (`the fagara
  ... galos` vs. `some fagaras ... galo`); a noun may carry a prepositional phrase, a
  relative clause (`that VP`, or the centre-embedded object relative `that NP TV`, whose verb
  agrees with the inner subject) or a bracketed aside, so in 12% of clauses the verb comes 10
  or more tokens after the start of its subject (1%: 21 or more; up to ~45).
* Selection. Transitive verbs take either agents or things as objects; in an object relative
  clause the verb must fit the head noun, several tokens back.
* Nested brackets of two kinds, `-lrb- ... -rrb-` and ``` `` ... '' ``` (PTB's spellings),
  each holding a clause whose noun phrases may open further brackets of either kind, so
  closing correctly needs a stack.
* Topics that persist across sentences. Each of 8 topics has its own nouns, verbs and
  adjectives; 85% of content words come from the current topic, 15% from a shared pool, and
  after each `<eos>` the topic is redrawn with probability 0.25 (uniformly, so possibly the
  same), so a topic lasts 4.6 sentences (~57 tokens) on average. The topic is never written:
  a model must infer it from the words and carry it across sentence and BPTT-window borders.

Words are pronounceable nonsense from a fixed syllable table (the same for every seed), with
`s` marking plural nouns and singular verbs; function words are English. Sentences average
12.4 tokens and end in `<eos>`; there is no `<unk>`. The vocabulary (426 words: `<eos>` is id
0, then 27 function words and the lexicon in a fixed order) does not depend on the seed or on
the split sizes, and every word occurs in the default training split.

What a learned model must beat, measured on the default splits (100,000 / 10,000 / 10,000
tokens; perplexity on the test split; the n-gram models are estimated on train with numpy
exactly as in tests/embedded_text_test.py):

  seed  unigram (add-one)  bigram (add-one)  bigram (interpolated Kneser-Ney, d=0.75)
   0         124.0              47.9              29.7
   1         124.2              48.0              29.8

and how far it can go: `grammar_perplexity` (the grammar's own probability of the test split,
topics summed out; an upper bound on the best achievable) is 9.6 for seed 0 (9.5 for seed 1),
and 10.5 if the topic is forgotten at every `<eos>` (`carry_topic=False`). A 1-layer LSTM
(256 units, 128-d embeddings, batch 32, BPTT 35, Adam 3e-3, clipnorm 1) reaches test
perplexity 38.9 after 1 epoch, 12.0 after 5 and 11.4 after 10 with its hidden state carried
across windows (~75 s on 2 CPU cores), but only 12.5 after 10 when the state is reset at
every window: the long-range structure is learnable and it pays to carry the state.

Generation takes ~0.25 s for the default 120,000 tokens. Train, valid and test come from
independent streams of the seed, so the test split does not change with the train size.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from enas_tf.data.corpus import EOS, TextSplits
from enas_tf.errors import DataError

NUM_TOPICS = 8
TOPIC_STAY = 0.75  # P(topic is kept after an <eos>); otherwise it is redrawn uniformly.
TOPIC_WORD_PROB = 0.85  # P(a content word comes from the topic rather than the shared pool).

# Stems per topic and in the shared pool: (agent nouns, thing nouns, verbs taking agents,
# verbs taking things, intransitive verbs, adjectives).
_TOPIC_STEMS = (5, 7, 3, 3, 3, 4)
_SHARED_STEMS = (3, 4, 2, 2, 2, 4)
_ZIPF = 0.9  # Within a list, word k has weight 1 / (k + 1) ** _ZIPF.
_LEXICON_SEED = 20180209  # Fixed: the words do not depend on the corpus seed.
_MAX_DEPTH = 4  # Nesting limit for relative clauses, PPs, brackets and complements.

_DETERMINERS = (("the", "a", "this", "every"), ("the", "some", "these", "many"))
_DET_PROBS = ((0.5, 0.3, 0.1, 0.1), (0.5, 0.2, 0.15, 0.15))
_PREPOSITIONS = ("near", "with", "under", "behind")
_ADVERBS = ("quickly", "again", "today", "slowly", "often")
_CONJUNCTIONS = ("and", "but", "because", "while")
_BRACKETS = (("-lrb-", "-rrb-"), ("``", "''"))
_SAY = ("say", "says")  # [plural, singular]: agrees with the subject like every verb.
_FUNCTION_WORDS = (
    ("that",)
    + tuple(dict.fromkeys(_DETERMINERS[0] + _DETERMINERS[1]))
    + _PREPOSITIONS
    + _ADVERBS
    + _CONJUNCTIONS
    + tuple(w for pair in _BRACKETS for w in pair)
    + _SAY
)

_SYLLABLES = tuple(c + v for c in "bdfgklmnprstvz" for v in "aeiou")


class Lexicon:
    """The fixed vocabulary, word lists per slot, and per-topic lexical log-probabilities."""

    def __init__(self):
        rng = np.random.default_rng(_LEXICON_SEED)
        used = set(_FUNCTION_WORDS)
        words = [EOS, *_FUNCTION_WORDS]

        def stems(count):
            out = []
            while len(out) < count:
                n = int(rng.integers(2, 4))
                stem = "".join(_SYLLABLES[i] for i in rng.integers(0, len(_SYLLABLES), n))
                # Both inflected forms must be new words (`bamo` and `bamos`).
                if stem not in used and stem + "s" not in used and not stem.endswith("s"):
                    used.update((stem, stem + "s"))
                    out.append(stem)
            return out

        def pools(counts):
            agents, things, tv_agent, tv_thing, iv, adjs = (stems(c) for c in counts)
            return dict(
                noun=(agents, things),  # [class][stem]
                tv=(tv_agent, tv_thing),  # verbs selecting agent / thing objects
                iv=iv,
                adj=adjs,
            )

        self.topics = [pools(_TOPIC_STEMS) for _ in range(NUM_TOPICS)]
        self.shared = pools(_SHARED_STEMS)
        # A slot is a (kind, class, form) where a content word is chosen; each word belongs to
        # exactly one slot. Forms: nouns stem / stem+s (plural), verbs stem / stem+s (singular).

        def add(word):
            words.append(word)
            return len(words) - 1

        self.slots = {}
        for key, suffix in self._slot_keys():
            topic_ids = [[add(s + suffix) for s in self._stems(p, key)] for p in self.topics]
            shared_ids = [add(s + suffix) for s in self._stems(self.shared, key)]
            self.slots[key] = _Slot(topic_ids, shared_ids)
        self.vocab = tuple(words)
        assert len(set(self.vocab)) == len(self.vocab)
        self.word_id = {w: i for i, w in enumerate(self.vocab)}
        # lexical_logp[w, t]: log P(word w | its slot, topic t); 0 for function words (their
        # probabilities do not depend on the topic and are counted as structure).
        self.lexical_logp = np.zeros((len(self.vocab), NUM_TOPICS))
        for slot in self.slots.values():
            for t in range(NUM_TOPICS):
                for other, ids in enumerate(slot.topic_ids):
                    for k, w in enumerate(ids):
                        p = TOPIC_WORD_PROB * slot.topic_probs[k] if other == t else 0.0
                        self.lexical_logp[w, t] = math.log(p) if p > 0 else -np.inf
                for k, w in enumerate(slot.shared_ids):
                    self.lexical_logp[w, t] = math.log((1 - TOPIC_WORD_PROB) * slot.shared_probs[k])

    @staticmethod
    def _slot_keys():
        for cls in (0, 1):
            yield ("noun", cls, 0), ""
            yield ("noun", cls, 1), "s"
            yield ("tv", cls, 0), ""
            yield ("tv", cls, 1), "s"
        yield ("iv", 0, 0), ""
        yield ("iv", 0, 1), "s"
        yield ("adj", 0, 0), ""

    @staticmethod
    def _stems(pool, key):
        kind, cls, _ = key
        if kind in ("noun", "tv"):
            return pool[kind][cls]
        return pool[kind]


class _Slot:
    """Word ids of one slot per topic and in the shared pool, with their Zipf weights."""

    def __init__(self, topic_ids, shared_ids):
        self.topic_ids = topic_ids
        self.shared_ids = shared_ids
        self.topic_probs = _zipf(len(topic_ids[0]))
        self.shared_probs = _zipf(len(shared_ids))
        self.topic_cum = list(np.cumsum(self.topic_probs))
        self.shared_cum = list(np.cumsum(self.shared_probs))


def _zipf(n: int) -> list[float]:
    weights = 1.0 / np.arange(1, n + 1) ** _ZIPF
    return list(weights / weights.sum())


_LEXICON: Lexicon | None = None


def lexicon() -> Lexicon:
    global _LEXICON
    if _LEXICON is None:
        _LEXICON = Lexicon()
    return _LEXICON


def vocabulary() -> tuple[str, ...]:
    """The corpus's fixed vocabulary: `<eos>` (id 0), function words, then the lexicon."""
    return lexicon().vocab


# --------------------------------------------------------------------------------------------
# Generation.


class _Generator:
    """Samples sentences from the grammar, accumulating the log-probability of its choices.

    Uniforms are drawn from numpy in blocks and consumed one by one from a Python list: the
    generator is a recursive descent, and per-call numpy scalars would be ~10x slower.
    `structure_nll` sums -log p of every topic-independent choice; content words are recorded
    as tokens and scored per topic afterwards (`grammar_perplexity`).
    """

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        self._uniforms: list[float] = []
        self._next = 0
        self.lex = lexicon()
        self.structure_nll = 0.0
        self.topic = 0
        self.tokens: list[int] = []
        self._ids = self.lex.word_id

    def _uniform(self) -> float:
        if self._next == len(self._uniforms):
            self._uniforms = self._rng.random(8192).tolist()
            self._next = 0
        u = self._uniforms[self._next]
        self._next += 1
        return u

    def _flip(self, p: float) -> bool:
        hit = self._uniform() < p
        self.structure_nll -= math.log(p if hit else 1.0 - p)
        return hit

    def _pick(self, probs) -> int:
        u = self._uniform()
        acc = 0.0
        last = len(probs) - 1
        for i, p in enumerate(probs):
            acc += p
            if u < acc or i == last:
                self.structure_nll -= math.log(p)
                return i
        raise AssertionError("unreachable")

    def _word(self, word: str) -> None:
        self.tokens.append(self._ids[word])

    def _content(self, key) -> None:
        slot = self.lex.slots[key]
        if self._uniform() < TOPIC_WORD_PROB:
            ids, cum = slot.topic_ids[self.topic], slot.topic_cum
        else:
            ids, cum = slot.shared_ids, slot.shared_cum
        k = min(bisect.bisect_right(cum, self._uniform()), len(ids) - 1)
        self.tokens.append(ids[k])

    # Grammar. `depth` counts enclosing embeddings; optional parts thin out with it.

    def sentence(self) -> None:
        # The topic draw is not counted in structure_nll: `grammar_perplexity` sums it out.
        if self._uniform() >= TOPIC_STAY:
            self.topic = min(int(self._uniform() * NUM_TOPICS), NUM_TOPICS - 1)
        self.clause(0)
        if self._flip(0.2):
            self._word(_CONJUNCTIONS[self._pick([0.4, 0.2, 0.2, 0.2])])
            self.clause(1)
        self._word(EOS)

    def clause(self, depth: int) -> None:
        number = self._pick([0.55, 0.45])  # 0 singular, 1 plural
        self.noun_phrase(0, number, depth)
        self.verb_phrase(number, depth)

    def noun_phrase(self, cls: int, number: int, depth: int) -> None:
        dets = _DETERMINERS[number]
        self._word(dets[self._pick(_DET_PROBS[number])])
        if self._flip(0.3):
            self._content(("adj", 0, 0))
            if self._flip(0.2):
                self._content(("adj", 0, 0))
        self._content(("noun", cls, number))
        room = depth < _MAX_DEPTH
        scale = 0.5**depth
        if room and self._flip(0.12 * scale):
            self._word(_PREPOSITIONS[self._pick([0.25] * 4)])
            self.noun_phrase(self._pick([0.5, 0.5]), self._pick([0.55, 0.45]), depth + 1)
        if room and self._flip(0.3 * scale):
            self._word("that")
            if self._flip(0.5):  # Subject relative: the verb agrees with the head noun.
                self.verb_phrase(number, depth + 1)
            else:  # Object relative: inner subject, then a verb that selects the head's class.
                inner = self._pick([0.55, 0.45])
                self.noun_phrase(0, inner, depth + 1)
                self._content(("tv", cls, 1 - inner))
        if room and self._flip(0.1 * scale):
            self.aside(depth + 1)

    def aside(self, depth: int) -> None:
        opening, closing = _BRACKETS[self._pick([0.6, 0.4])]
        self._word(opening)
        self.clause(depth)
        self._word(closing)

    def verb_phrase(self, number: int, depth: int) -> None:
        verb_form = 1 - number  # singular subjects take stem+s
        room = depth < _MAX_DEPTH
        kind = self._pick([0.3, 0.58, 0.12] if room else [0.35, 0.65])
        if kind == 0:
            self._content(("iv", 0, verb_form))
        elif kind == 1:
            cls = self._pick([0.5, 0.5])
            self._content(("tv", cls, verb_form))
            self.noun_phrase(cls, self._pick([0.55, 0.45]), depth + 1)
        else:
            self._word(_SAY[verb_form])
            self._word("that")
            self.clause(depth + 1)
        if self._flip(0.12):
            self._word(_ADVERBS[self._pick([0.3, 0.25, 0.2, 0.15, 0.1])])


def _generate(seed_sequence: np.random.SeedSequence, num_tokens: int):
    """Whole sentences until there are >= num_tokens; returns (generator, sentence ends)."""
    gen = _Generator(np.random.default_rng(seed_sequence))
    gen.topic = min(int(gen._uniform() * NUM_TOPICS), NUM_TOPICS - 1)
    ends = []
    while len(gen.tokens) < num_tokens:
        gen.sentence()
        ends.append(len(gen.tokens))
    return gen, ends


def _split_sequences(seed: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(int(seed)).spawn(3)  # train, valid, test


def make_embedded_corpus(
    num_train_tokens: int = 100_000,
    num_valid_tokens: int = 10_000,
    num_test_tokens: int = 10_000,
    seed: int = 0,
) -> TextSplits:
    """Generates the synthetic corpus deterministically.

    Each split is a stream of whole sentences cut to exactly the requested number of tokens
    (so its last sentence is usually incomplete, like any window of a longer text).

    Args:
      num_train_tokens: tokens in the training split.
      num_valid_tokens: tokens in the validation split (controller rewards).
      num_test_tokens: tokens in the test split.
      seed: same seed, identical splits; each split has its own stream of it.

    Returns:
      TextSplits over the fixed vocabulary (`vocabulary()`), `eos_id` 0, `unk_id` None.

    Raises:
      DataError: a size is not positive.
    """
    sizes = dict(
        num_train_tokens=num_train_tokens,
        num_valid_tokens=num_valid_tokens,
        num_test_tokens=num_test_tokens,
    )
    bad = [f"data.embedded.{k}={v}" for k, v in sizes.items() if int(v) <= 0]
    if bad:
        raise DataError(f"{', '.join(bad)}: every embedded split needs > 0 tokens.")
    splits = []
    for seq, n in zip(_split_sequences(seed), sizes.values(), strict=True):
        gen, _ = _generate(seq, int(n))
        splits.append(np.asarray(gen.tokens[: int(n)], dtype=np.int32))
    return TextSplits(
        train=splits[0],
        valid=splits[1],
        test=splits[2],
        vocab=vocabulary(),
        eos_id=0,
        unk_id=None,
        source=f"embedded synthetic grammar (seed {int(seed)})",
    )


def grammar_perplexity(
    num_tokens: int = 10_000, seed: int = 0, split: str = "test", carry_topic: bool = True
) -> float:
    """Perplexity the generating grammar itself assigns to a split: a target for models.

    The topic sequence is latent; it is summed out exactly with the forward algorithm over
    sentences (each sentence's content words scored under every topic). Structural choices
    are taken from the derivation that produced the text; other derivations of the same
    string are not summed, so this is an upper bound on the best achievable perplexity.
    Computed on the whole sentences that cover the first `num_tokens` tokens of the split.

    Args:
      num_tokens: size of the split as passed to `make_embedded_corpus`.
      seed: the corpus seed.
      split: 'train', 'valid' or 'test'.
      carry_topic: False scores each sentence with a uniform topic prior, as a model that
        forgets everything at `<eos>` would at best: the gap to True is what memory across
        sentences is worth.

    Returns:
      exp(total negative log-likelihood / number of tokens).

    Raises:
      DataError: `split` is not one of the three names.
    """
    names = ("train", "valid", "test")
    if split not in names:
        raise DataError(f"split={split!r} must be one of {names}.")
    gen, ends = _generate(_split_sequences(seed)[names.index(split)], int(num_tokens))
    tokens = np.asarray(gen.tokens)
    sentence = np.repeat(np.arange(len(ends)), np.diff([0, *ends]))
    per_sentence = np.zeros((len(ends), NUM_TOPICS))  # log P(content words | topic)
    np.add.at(per_sentence, sentence, gen.lex.lexical_logp[tokens])
    prior = -math.log(NUM_TOPICS)
    if carry_topic:
        # Forward algorithm: uniform first topic; after each sentence the topic is kept with
        # TOPIC_STAY or redrawn uniformly (possibly the same one).
        log_switch = math.log((1 - TOPIC_STAY) / NUM_TOPICS)
        transition = np.full((NUM_TOPICS, NUM_TOPICS), log_switch)
        np.fill_diagonal(transition, math.log(TOPIC_STAY + (1 - TOPIC_STAY) / NUM_TOPICS))
        alpha = prior + per_sentence[0]
        for row in per_sentence[1:]:
            alpha = np.logaddexp.reduce(alpha[:, None] + transition, axis=0) + row
        lexical_ll = float(np.logaddexp.reduce(alpha))
    else:
        lexical_ll = float(np.logaddexp.reduce(prior + per_sentence, axis=1).sum())
    return math.exp((gen.structure_nll - lexical_ll) / len(tokens))

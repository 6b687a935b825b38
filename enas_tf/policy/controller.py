"""The ENAS controller: an LSTM policy over a search space's static decision program.

A search space describes the controller's choices as a tuple of steps from
`enas_tf.spaces.decisions` (`OpChoice`, `IndexChoice`, `SkipChoice`, `AnchorStep`,
`ResetAnchors`). `Controller` unrolls that program in Python at trace time, so the graph has a
fixed structure while every choice is an int32 tensor: one `tf.function(jit_compile=True)` trace
samples (or scores) every architecture of the space, on CPU, GPU or TPU.

Sampling and scoring share one routine (`Controller._unroll`): with a seed it samples each
decision, with tokens it is teacher-forced. Both return the summed log-probability (the
quantity REINFORCE differentiates) and the summed exact entropy of every decision's
distribution (the quantity added to the reward).

Randomness is stateless: one Philox draw from the seed gives a uniform per outcome of every
decision; categorical choices use the Gumbel-max trick and Bernoullis compare the uniform with
their probability. The uniforms are built from integer bits, so the same seed gives the same
architecture in eager mode, in a `tf.function` and under XLA (tested on CPU; up to float rounding
of near-tied logits), and callers can feed seeds from a `tf.random.Generator`.

Semantics (Pham et al. 2018, Section 2.2, and the authors' code; our own implementation):

* Every decision step (`OpChoice`, `IndexChoice`, `SkipChoice` with candidates) and every
  `AnchorStep` runs the stacked LSTM once on the current input.
* `OpChoice`: logits `h @ W_soft[g] + b[g]`, then `/ temperature`, then
  `(tanh_constant / op_tanh_reduce) * tanh(.)`; the next input is `W_emb[g][token]`.
* `IndexChoice(k)`: additive attention `v . tanh(W1 a_j + W2 h)` over the first `k` anchors of
  the current block, then `/ temperature` and `tanh_constant * tanh(.)`, minus the optional
  distance prior `distance_prior * (k - j)^2`; the next input is the chosen anchor.
* `SkipChoice(k)`: one Bernoulli per anchor `j < k` with the attention score (same temperature
  and tanh) as its logit; the next input is the mean of the selected anchors, zeros when none
  is selected (the contract in `decisions.py`; the original code used `sum / (1 + count)`).
  With `push_anchor`, the step's `h` then becomes the anchor of a new node (macro layers).
* `AnchorStep`: the LSTM output `h` becomes the anchor of a new node (its `W1 h` is cached for
  attention); the next input is the learned go embedding `g_emb`.
* `ResetAnchors`: the next choices attend only to anchors pushed after it.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Sequence

import keras
import tensorflow as tf

from enas_tf.policy import distributions, program_check
from enas_tf.spaces import decisions

_FIRST_INPUTS = ("zeros", "go")
# The unroll is plain Python over a static program: AutoGraph has nothing to convert, and
# converting it would cost seconds per trace. Entry points are marked so it is never attempted.
_NO_AUTOGRAPH = tf.autograph.experimental.do_not_convert


class PolicyOutput(NamedTuple):
    """What one pass of the controller over the program produces.

    A NamedTuple (not a dataclass) so it can be returned from `tf.function` and passed through
    `tf.nest` / `strategy.run` unchanged.

    Attributes:
      tokens: int32 [T], the architecture's token sequence (`decisions.num_tokens(program)`).
      log_prob: float32 scalar, sum over decisions of log pi(token); differentiable w.r.t. the
        controller weights.
      entropy: float32 scalar, sum over decisions of the exact entropy of each (post-tanh)
        distribution; differentiable (callers stop the gradient when shaping the reward).
      skip_probs: float32 [S], P(skip = 1) of every Bernoulli decision in program order
        (S = 0 when the program has no `SkipChoice`); feeds `reinforce.skip_kl_penalty`.
      choice_probs: float32 [U], the policy's probabilities at every decision of this pass, in
        program order: the softmax over the `num_ops` / `num_candidates` outcomes of each
        `OpChoice` / `IndexChoice`, and P(skip = 1) of each `SkipChoice` candidate. Averaged
        over samples it estimates the marginal probability of every choice (the TensorBoard
        policy heatmaps, `enas_tf.pictures.policy_pictures`).
    """

    tokens: tf.Tensor
    log_prob: tf.Tensor
    entropy: tf.Tensor
    skip_probs: tf.Tensor
    choice_probs: tf.Tensor


class _Unroll:
    """Mutable state of one pass over the program (LSTM state, input, anchors, outputs).

    Lives only while `Controller._unroll` traces; holds tensors, never variables.
    """

    def __init__(self, lstm_size: int, lstm_num_layers: int, first_input: tf.Tensor):
        zeros = tf.zeros([1, lstm_size], tf.float32)
        self.state = [(zeros, zeros) for _ in range(lstm_num_layers)]
        self.inputs = first_input
        self.anchors: list[tf.Tensor] = []
        self.anchors_w1: list[tf.Tensor] = []
        self.tokens: list[tf.Tensor] = []
        self.log_probs: list[tf.Tensor] = []
        self.entropies: list[tf.Tensor] = []
        self.skip_probs: list[tf.Tensor] = []
        self.choice_probs: list[tf.Tensor] = []


@keras.saving.register_keras_serializable(package="enas_tf")
class Controller(keras.layers.Layer):
    """LSTM policy over any static decision program (ENAS, Section 2.2).

    All variables are created in `__init__` (via `build`), named explicitly and in a fixed order,
    so `controller.weights` is complete right after construction (build it inside
    `strategy.scope()` for distribution) and a checkpoint of `list(controller.weights)` is
    stable. Everything is float32 regardless of the global mixed-precision policy: the policy
    is tiny and its log-probabilities feed high-variance gradient estimates.

    Weights (in this order; only those the program uses are created):
      `lstm_{l}_kernel` [2 * lstm_size, 4 * lstm_size], `lstm_{l}_bias` [4 * lstm_size] for each
      layer l; `g_emb` [1, lstm_size]; per op group g: `{g}_w_soft` [lstm_size, n],
      `{g}_b_soft` [n] (initialised to `bias_init`), `{g}_w_emb` [n, lstm_size]; attention
      `attn_w1`, `attn_w2` [lstm_size, lstm_size], `attn_v` [lstm_size, 1].

    Example:
      ```
      controller = Controller(space.decision_program(), lstm_size=64, tanh_constant=1.1,
                              op_tanh_reduce=2.5)
      gen = tf.random.Generator.from_seed(0)
      tokens, log_prob, entropy = controller.sample(gen.make_seeds(1)[:, 0])
      ```
    """

    def __init__(
        self,
        program: Sequence[decisions.DecisionStep],
        *,
        lstm_size: int = 64,
        lstm_num_layers: int = 1,
        tanh_constant: Optional[float] = 1.5,
        op_tanh_reduce: float = 1.0,
        temperature: Optional[float] = None,
        init_range: float = 0.1,
        first_input: str = "zeros",
        name: str = "controller",
        **kwargs: Any,
    ):
        """Validates the program and builds every weight.

        Args:
          program: the space's decision steps, unrolled in this order.
          lstm_size: LSTM units; also the size of every embedding and anchor.
          lstm_num_layers: number of stacked LSTM layers.
          tanh_constant: `c` in `c * tanh(logits)` (None or 0 disables it); bounds the logits
            so the policy cannot collapse early (Bello et al. 2017).
          op_tanh_reduce: divides `tanh_constant` for `OpChoice` logits only (micro code: 2.5).
          temperature: divides logits before the tanh (None disables it; paper: 5.0).
          init_range: weights are initialised U(-init_range, init_range) (paper: 0.1).
          first_input: LSTM input of the first step: "zeros" (the paper's "empty embedding") or
            "go" (the learned `g_emb`, as in the authors' code).
          name: layer name.
          **kwargs: passed to `keras.layers.Layer` (except `dtype`, always float32).
        """
        kwargs.pop("dtype", None)
        super().__init__(name=name, dtype="float32", **kwargs)
        if first_input not in _FIRST_INPUTS:
            raise ValueError(f"first_input must be one of {_FIRST_INPUTS}, got {first_input!r}")
        if lstm_size < 1 or lstm_num_layers < 1:
            raise ValueError(
                f"lstm_size and lstm_num_layers must be >= 1, got {lstm_size}, {lstm_num_layers}"
            )
        if temperature is not None and temperature <= 0:
            raise ValueError(f"temperature must be positive or None, got {temperature}")
        if op_tanh_reduce <= 0:
            raise ValueError(f"op_tanh_reduce must be positive, got {op_tanh_reduce}")
        self.program = tuple(program)
        self.lstm_size = lstm_size
        self.lstm_num_layers = lstm_num_layers
        self.tanh_constant = tanh_constant
        self.op_tanh_reduce = op_tanh_reduce
        self.temperature = temperature
        self.init_range = init_range
        self.first_input = first_input
        self._info = program_check.analyse_program(self.program, first_input)
        self.build()

    # ----------------------------------------------------------------------------- weights

    def _uniform(self, name: str, shape: Sequence[int]) -> keras.Variable:
        """A float32 weight initialised U(-init_range, init_range)."""
        return self.add_weight(
            name=name,
            shape=tuple(shape),
            initializer=keras.initializers.RandomUniform(-self.init_range, self.init_range),
            dtype="float32",
        )

    def build(self, input_shape: Any = None) -> None:
        """Creates all weights (idempotent); called from `__init__`.

        `input_shape` is ignored: the controller's shapes come from the program.
        """
        if self.built:
            return
        units = self.lstm_size
        self._lstm = [
            (
                self._uniform(f"lstm_{i}_kernel", [2 * units, 4 * units]),
                self._uniform(f"lstm_{i}_bias", [4 * units]),
            )
            for i in range(self.lstm_num_layers)
        ]
        self._g_emb = self._uniform("g_emb", [1, units]) if self._info.uses_go else None
        self._op_tables = {}
        for group, (num_ops, bias_init) in self._info.groups.items():
            bias = keras.initializers.Constant(list(bias_init)) if bias_init else "zeros"
            self._op_tables[group] = (
                self._uniform(f"{group}_w_soft", [units, num_ops]),
                self.add_weight(
                    name=f"{group}_b_soft", shape=(num_ops,), initializer=bias, dtype="float32"
                ),
                self._uniform(f"{group}_w_emb", [num_ops, units]),
            )
        self._attention = None
        if self._info.uses_attention:
            self._attention = (
                self._uniform("attn_w1", [units, units]),
                self._uniform("attn_w2", [units, units]),
                self._uniform("attn_v", [units, 1]),
            )
        self.built = True

    @property
    def num_tokens(self) -> int:
        """Length T of the token sequence the program emits."""
        return self._info.num_tokens

    @property
    def num_choice_probs(self) -> int:
        """Length U of `PolicyOutput.choice_probs` (one entry per outcome of every decision)."""
        return self._info.num_uniforms

    # ---------------------------------------------------------------------------- public API

    @_NO_AUTOGRAPH
    def sample(self, seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Samples one architecture.

        Args:
          seed: int32/int64 [2] stateless seed (e.g. `generator.make_seeds(1)[:, 0]`); the same
            seed gives the same tokens, so a run is reproducible under XLA.

        Returns:
          (tokens int32 [T], log_prob float32 scalar, entropy float32 scalar).
        """
        out = self.sample_with_details(seed)
        return out.tokens, out.log_prob, out.entropy

    @_NO_AUTOGRAPH
    def log_prob(self, tokens: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Teacher-forced (log_prob, entropy) of `tokens` [T] under the current policy.

        Tokens are not range-checked here (XLA drops asserts): an out-of-range op/index token
        contributes log-prob 0. Validate architectures with the space first.
        """
        out = self.log_prob_with_details(tokens)
        return out.log_prob, out.entropy

    @_NO_AUTOGRAPH
    def sample_with_details(self, seed: tf.Tensor) -> PolicyOutput:
        """Like `sample`, plus the skip probabilities (see `PolicyOutput`)."""
        seed = tf.convert_to_tensor(seed)
        if seed.shape.rank is not None and seed.shape.as_list() != [2]:
            raise ValueError(f"seed must have shape [2], got {seed.shape}")
        return self._unroll(seed=seed, tokens=None)

    @_NO_AUTOGRAPH
    def log_prob_with_details(self, tokens: tf.Tensor) -> PolicyOutput:
        """Like `log_prob`, plus the tokens (as int32) and the skip probabilities."""
        tokens = tf.cast(tf.convert_to_tensor(tokens), tf.int32)
        if tokens.shape.rank != 1 or tokens.shape[0] not in (None, self.num_tokens):
            raise ValueError(f"tokens must have shape [{self.num_tokens}], got {tokens.shape}")
        return self._unroll(seed=None, tokens=tokens)

    def call(self, seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """`controller(seed)` is `controller.sample(seed)`."""
        return self.sample(seed)

    def get_config(self) -> dict[str, Any]:
        """Serialisable config; the program is stored as a list of step dicts."""
        config = super().get_config()
        config.pop("dtype", None)
        config.update(
            program=[program_check.step_to_config(step) for step in self.program],
            lstm_size=self.lstm_size,
            lstm_num_layers=self.lstm_num_layers,
            tanh_constant=self.tanh_constant,
            op_tanh_reduce=self.op_tanh_reduce,
            temperature=self.temperature,
            init_range=self.init_range,
            first_input=self.first_input,
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Controller":
        """Inverse of `get_config`."""
        config = dict(config)
        program = [program_check.step_from_config(step) for step in config.pop("program")]
        return cls(program, **config)

    # ----------------------------------------------------------------------------- internals

    @_NO_AUTOGRAPH
    def _unroll(self, seed: Optional[tf.Tensor], tokens: Optional[tf.Tensor]) -> PolicyOutput:
        """One pass over the program: samples when `seed` is given, else teacher-forces `tokens`.

        The single code path for both modes guarantees that `log_prob(sample(s).tokens)` equals
        the sampled log-probability. All randomness is drawn up front, one uniform per outcome
        of every decision (a single RNG op instead of one per step keeps traces and graphs
        small); each decision reads its own slice.
        """
        if self._info.uses_go and self.first_input == "go":
            first = tf.convert_to_tensor(self._g_emb)
        else:
            first = tf.zeros([1, self.lstm_size], tf.float32)
        run = _Unroll(self.lstm_size, self.lstm_num_layers, first)
        noise = (
            None if seed is None else distributions.unit_uniform([self._info.num_uniforms], seed)
        )
        position, offset = 0, 0  # next token, next uniform
        for step in self.program:
            if isinstance(step, decisions.ResetAnchors):
                run.anchors, run.anchors_w1 = [], []
                continue
            if isinstance(step, decisions.SkipChoice) and step.num_candidates == 0:
                continue
            h = self._lstm_step(run)
            if isinstance(step, decisions.AnchorStep):
                self._push_anchor(run, h)
                continue
            outcomes, width = decisions.num_outcomes(step), decisions.step_tokens(step)
            uniforms = None if noise is None else noise[offset : offset + outcomes]
            given = None if tokens is None else tokens[position : position + width]
            if isinstance(step, decisions.OpChoice):
                self._op_choice(run, step, h, uniforms, given)
            elif isinstance(step, decisions.IndexChoice):
                self._index_choice(run, step, h, uniforms, given)
            else:
                self._skip_choice(run, step, h, uniforms, given)
            position, offset = position + width, offset + outcomes
        return self._collect(run)

    def _push_anchor(self, run: _Unroll, h: tf.Tensor) -> None:
        """AnchorStep: `h` becomes a node's anchor (with its cached `W1 h`); next input g_emb."""
        run.anchors.append(h)
        run.anchors_w1.append(tf.matmul(h, self._attention[0]) if self._attention else h)
        # Without g_emb (never consumed by this program) the input is irrelevant.
        run.inputs = tf.convert_to_tensor(self._g_emb) if self._g_emb is not None else h

    def _lstm_step(self, run: _Unroll) -> tf.Tensor:
        """Advances the stacked LSTM on `run.inputs`; returns the top layer's h [1, units]."""
        x = run.inputs
        new_state = []
        for (kernel, bias), (c, h) in zip(self._lstm, run.state, strict=True):
            gates = tf.matmul(tf.concat([x, h], axis=1), kernel) + bias
            i, f, g, o = tf.split(gates, 4, axis=1)
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            h = tf.sigmoid(o) * tf.tanh(c)
            new_state.append((c, h))
            x = h
        run.state = new_state
        return x

    def _shape_logits(self, logits: tf.Tensor, tanh_reduce: float) -> tf.Tensor:
        """Applies temperature then the bounded `tanh_constant / tanh_reduce * tanh(.)`."""
        if self.temperature:
            logits = logits / self.temperature
        if self.tanh_constant:
            logits = (self.tanh_constant / tanh_reduce) * tf.tanh(logits)
        return logits

    def _attention_logits(self, run: _Unroll, h: tf.Tensor, num_candidates: int) -> tf.Tensor:
        """Shaped scores `v . tanh(W1 a_j + W2 h)` of the first `num_candidates` anchors [k]."""
        _, w2, v = self._attention
        keys = tf.concat(run.anchors_w1[:num_candidates], axis=0)  # [k, units]
        scores = tf.matmul(tf.tanh(keys + tf.matmul(h, w2)), v)  # [k, 1]
        return self._shape_logits(tf.reshape(scores, [num_candidates]), 1.0)

    def _choose(
        self, logits: tf.Tensor, uniforms: Optional[tf.Tensor], given: Optional[tf.Tensor]
    ) -> tf.Tensor:
        """The categorical token: the given one (teacher forcing) or a Gumbel-max sample."""
        if given is not None:
            return tf.reshape(given, [])
        gumbel = -tf.math.log(-tf.math.log(uniforms))
        return tf.argmax(logits + gumbel, output_type=tf.int32)

    def _record(self, run: _Unroll, token: tf.Tensor, log_prob: tf.Tensor, entropy: tf.Tensor):
        run.tokens.append(tf.reshape(token, [-1]))
        run.log_probs.append(log_prob)
        run.entropies.append(entropy)

    def _op_choice(
        self,
        run: _Unroll,
        step: decisions.OpChoice,
        h: tf.Tensor,
        uniforms: Optional[tf.Tensor],
        given: Optional[tf.Tensor],
    ) -> None:
        w_soft, b_soft, w_emb = self._op_tables[step.group]
        logits = self._shape_logits(
            tf.reshape(tf.matmul(h, w_soft), [-1]) + b_soft, self.op_tanh_reduce
        )
        token = self._choose(logits, uniforms, given)
        self._record(run, token, *distributions.categorical_terms(logits, token, step.num_ops))
        run.choice_probs.append(tf.nn.softmax(logits))
        run.inputs = tf.matmul(tf.one_hot([token], step.num_ops, dtype=tf.float32), w_emb)

    def _index_choice(
        self,
        run: _Unroll,
        step: decisions.IndexChoice,
        h: tf.Tensor,
        uniforms: Optional[tf.Tensor],
        given: Optional[tf.Tensor],
    ) -> None:
        k = step.num_candidates
        logits = self._attention_logits(run, h, k)
        if step.distance_prior:
            distance = tf.range(k, 0, -1, dtype=tf.float32)  # k - j for j = 0 .. k - 1
            logits = logits - step.distance_prior * tf.square(distance)
        token = self._choose(logits, uniforms, given)
        self._record(run, token, *distributions.categorical_terms(logits, token, k))
        run.choice_probs.append(tf.nn.softmax(logits))
        anchors = tf.concat(run.anchors[:k], axis=0)
        run.inputs = tf.matmul(tf.one_hot([token], k, dtype=tf.float32), anchors)

    def _skip_choice(
        self,
        run: _Unroll,
        step: decisions.SkipChoice,
        h: tf.Tensor,
        uniforms: Optional[tf.Tensor],
        given: Optional[tf.Tensor],
    ) -> None:
        k = step.num_candidates
        logits = self._attention_logits(run, h, k)
        probs = tf.sigmoid(logits)
        if given is not None:
            bits = tf.reshape(given, [k])
        else:
            bits = tf.cast(uniforms < probs, tf.int32)
        self._record(run, bits, *distributions.bernoulli_terms(logits, bits))
        run.skip_probs.append(probs)
        run.choice_probs.append(probs)
        selected = tf.cast(bits, tf.float32)[tf.newaxis]  # [1, k]
        total = tf.matmul(selected, tf.concat(run.anchors[:k], axis=0))
        inputs = total / tf.maximum(tf.reduce_sum(selected), 1.0)
        if step.push_anchor:
            self._push_anchor(run, h)
        run.inputs = inputs

    def _collect(self, run: _Unroll) -> PolicyOutput:
        """Concatenates / sums the per-decision pieces (empty-safe)."""
        zero = tf.constant(0.0, tf.float32)
        return PolicyOutput(
            tokens=tf.concat(run.tokens, 0) if run.tokens else tf.zeros([0], tf.int32),
            log_prob=tf.add_n(run.log_probs) if run.log_probs else zero,
            entropy=tf.add_n(run.entropies) if run.entropies else zero,
            skip_probs=tf.concat(run.skip_probs, 0) if run.skip_probs else tf.zeros([0]),
            choice_probs=tf.concat(run.choice_probs, 0) if run.choice_probs else tf.zeros([0]),
        )

"""Helpers shared by the config files in `configs/` (big_vision style `get_config(arg)`).

A config file returns a locked `ml_collections.ConfigDict`; command-line overrides
(`--config.search.epochs=3`) may change values but never add keys, so a misspelt key is an
error instead of a silently ignored setting (a complaint about the original ENAS code).
"""

from __future__ import annotations

import ml_collections

from enas_tf.errors import ConfigError
from enas_tf.spaces import registry

SPACES = registry.names()
JIT_CHOICES = ("auto", "true", "false")
ARC_SAMPLING = ("per_replica", "shared")
PRECISIONS = ("auto", "float32", "mixed_bfloat16")
POLICIES = ("enas", "random")
CONTROLLER_PRESETS = ("learnable", "paper")

# Controller settings the configs users run start from (`:controller=learnable`, the default),
# per space. Measured with bench/controller_learning.py (BUILD_NOTES, "Controller learning"):
# with the paper's / original code's values the policy cannot concentrate on what it is
# rewarded for at CPU budgets. micro: tanh 1.1 / op reduce 2.5 caps one op at 0.38 and the
# saturated sep-conv bias (10 inside the tanh) pins two ops at the top (ceiling 0.25 for any
# other op); macro and rnn: Adam 3.5e-4 (and macro's entropy weight 0.1, a bonus of 2-7
# against a reward of at most 1) leave the policy where it started after 300 updates.
LEARNABLE_CONTROLLER = {
    "micro": dict(tanh_constant=2.5, op_tanh_reduce=1.0, op_bias_init=0.5),
    "macro": dict(learning_rate=3.5e-3, entropy_weight=1e-4),
    "rnn": dict(learning_rate=3.5e-3),
}


def apply_controller_preset(config, preset: str) -> None:
    """Sets `search.controller` to the `learnable` settings or leaves the `paper` ones.

    Raises:
      ConfigError: for an unknown preset.
    """
    if preset not in CONTROLLER_PRESETS:
        raise ConfigError(f"controller={preset!r}: must be one of {CONTROLLER_PRESETS}")
    if preset == "learnable":
        config.search.controller.update(LEARNABLE_CONTROLLER[config.space])


def parse_arg(arg: str | None, **defaults):
    """Parses `key=value,flag` config arguments into a ConfigDict of `defaults`' types.

    `configs/cifar10_micro.py:phase=final,runlocal` gives `phase='final', runlocal=True`.

    Raises:
      ConfigError: for a key that is not in `defaults`.
    """
    parsed = ml_collections.ConfigDict(dict(defaults))
    for part in filter(None, (arg or "").split(",")):
        key, has_value, value = part.partition("=")
        key = key.strip()
        if key not in defaults:
            raise ConfigError(
                f"unknown config argument {key!r}; known: {', '.join(sorted(defaults))}"
            )
        default = defaults[key]
        if not has_value:
            parsed[key] = True
        elif isinstance(default, bool):
            parsed[key] = value.lower() in ("1", "true", "yes")
        else:
            parsed[key] = type(default)(value)
    return parsed


def _require(condition: bool, key: str, value, allowed: str):
    if not condition:
        raise ConfigError(f"config.{key}={value!r}: {allowed}")


def check_batch_sizes(config, num_train: int, num_valid: int) -> None:
    """Refuses batch sizes the loaded data cannot fill (a split smaller than one batch).

    Checked by the pipeline before it writes the workdir, and by `Search`/`Retrain` for callers
    that build them directly.

    Raises:
      ConfigError: naming the key, its value and the split size.
    """
    checks = (
        ("search.batch_size", config.search.batch_size, num_train, "training split"),
        ("search.eval_batch_size", config.search.eval_batch_size, num_valid, "validation split"),
        ("retrain.batch_size", config.retrain.batch_size, num_train, "training split"),
    )
    for key, value, available, split in checks:
        if value > available:
            raise ConfigError(
                f"config.{key}={value} is larger than the {split} ({available} images): lower "
                "it, or use more data (data.max_train_examples, data.num_valid)"
            )


def validate(config: ml_collections.ConfigDict) -> None:
    """Checks values that would otherwise fail late (after minutes of training) or silently.

    Raises:
      ConfigError: naming the first bad key, its value and the allowed range.
    """
    _require(config.space in SPACES, "space", config.space, f"must be one of {SPACES}")
    for phase in ("search", "retrain"):
        _require(
            str(config.jit_compile[phase]).lower() in JIT_CHOICES,
            f"jit_compile.{phase}",
            config.jit_compile[phase],
            f"must be one of {JIT_CHOICES}",
        )
    _require(
        config.precision in PRECISIONS,
        "precision",
        config.precision,
        f"must be one of {PRECISIONS}",
    )
    _require(
        config.search.arc_sampling in ARC_SAMPLING,
        "search.arc_sampling",
        config.search.arc_sampling,
        f"must be one of {ARC_SAMPLING}",
    )
    _require(
        config.search.policy in POLICIES,
        "search.policy",
        config.search.policy,
        f"must be one of {POLICIES} (random: the random-search baseline, no controller updates)",
    )
    check = config.search.check
    _require(check.num_arcs >= 2, "search.check.num_arcs", check.num_arcs, "must be >= 2")
    _require(check.num_batches >= 1, "search.check.num_batches", check.num_batches, "must be >= 1")
    _require(config.steps_per_loop >= 1, "steps_per_loop", config.steps_per_loop, "must be >= 1")
    _require(
        config.checkpoint_every_steps >= 0,
        "checkpoint_every_steps",
        config.checkpoint_every_steps,
        "must be >= 0 (0 = at phase ends only)",
    )
    if config.space == "rnn":
        _validate_rnn(config)
        _validate_controller(config.search.controller)
        return
    data = config.data
    _require(data.num_valid > 0, "data.num_valid", data.num_valid, "must be > 0")
    for phase in ("search", "retrain"):
        section = config[phase]
        _validate_model(config.space, phase, section.model)
        _require(section.batch_size >= 1, f"{phase}.batch_size", section.batch_size, "must be >= 1")
        _require(section.epochs >= 0, f"{phase}.epochs", section.epochs, "must be >= 0")
        optim = section.optimizer
        _require(
            0.0 <= optim.lr_min <= optim.lr_max,
            f"{phase}.optimizer.lr_min",
            optim.lr_min,
            f"must be in [0, lr_max={optim.lr_max}]",
        )
        _require(
            optim.grad_clip > 0,
            f"{phase}.optimizer.grad_clip",
            optim.grad_clip,
            "must be > 0 (global-norm clipping threshold)",
        )
        _require(
            optim.t0 >= 1 and optim.t_mul >= 1,
            f"{phase}.optimizer.t0",
            optim.t0,
            "t0 and t_mul must be >= 1",
        )
    _validate_controller(config.search.controller)
    _validate_derive(config.derive)
    if config.space == "micro":
        _validate_micro_retrain(config.retrain)
    _require(
        config.retrain.cutout_size >= 0,
        "retrain.cutout_size",
        config.retrain.cutout_size,
        "must be >= 0 (0 disables CutOut)",
    )


def _validate_controller(ctrl) -> None:
    _require(
        ctrl.op_bias_init >= 0.0,
        "search.controller.op_bias_init",
        ctrl.op_bias_init,
        "must be >= 0 (initial logit bias of the separable convolutions; 0 = none)",
    )
    _require(
        ctrl.num_aggregate >= 1,
        "search.controller.num_aggregate",
        ctrl.num_aggregate,
        "must be >= 1",
    )
    _require(
        0.0 <= ctrl.baseline_decay < 1.0,
        "search.controller.baseline_decay",
        ctrl.baseline_decay,
        "must be in [0, 1)",
    )
    _require(
        0.0 < ctrl.skip_target < 1.0,
        "search.controller.skip_target",
        ctrl.skip_target,
        "must be in (0, 1) (prior probability of a skip connection)",
    )
    _require(
        ctrl.skip_weight >= 0.0,
        "search.controller.skip_weight",
        ctrl.skip_weight,
        "must be >= 0 (0 disables the skip KL penalty)",
    )


def _validate_rnn(config) -> None:
    """The language-model keys of an rnn-space config."""
    _validate_lm_section(config, "search")
    _validate_lm_section(config, "retrain")
    ctrl = config.search.controller
    _require(
        ctrl.reward_constant > 0,
        "search.controller.reward_constant",
        ctrl.reward_constant,
        "must be > 0 (reward = c / validation perplexity)",
    )
    _require(
        ctrl.distance_prior >= 0,
        "search.controller.distance_prior",
        ctrl.distance_prior,
        "must be >= 0 (0 disables the prior towards recent nodes)",
    )
    _validate_derive(config.derive)


def _validate_derive(derive) -> None:
    _require(
        derive.num_candidates >= 1, "derive.num_candidates", derive.num_candidates, "must be >= 1"
    )
    _require(derive.num_batches >= 1, "derive.num_batches", derive.num_batches, "must be >= 1")


def _validate_lm_section(config, phase: str) -> None:
    """`search` or `retrain` of an rnn-space config: model, batch, BPTT and optimizer keys."""
    section = config[phase]
    model = section.model
    if "num_nodes" in model:
        _require(model.num_nodes >= 1, f"{phase}.model.num_nodes", model.num_nodes, "must be >= 1")
    _require(
        model.hidden_size >= 1, f"{phase}.model.hidden_size", model.hidden_size, "must be >= 1"
    )
    _require(
        model.output in ("loose_ends", "all_but_first"),
        f"{phase}.model.output",
        model.output,
        "must be 'loose_ends' (the paper) or 'all_but_first' (enas_lm)",
    )
    for name, rate in model.dropout.items():
        _require(0.0 <= rate < 1.0, f"{phase}.model.dropout.{name}", rate, "must be in [0, 1)")
    for key in ("batch_size", "eval_batch_size", "bptt", "epochs"):
        minimum = 0 if key == "epochs" else 1
        _require(section[key] >= minimum, f"{phase}.{key}", section[key], f"must be >= {minimum}")
    optim = section.optimizer
    _require(optim.lr > 0, f"{phase}.optimizer.lr", optim.lr, "must be > 0")
    _require(0 < optim.decay <= 1, f"{phase}.optimizer.decay", optim.decay, "must be in (0, 1]")
    _require(optim.grad_clip > 0, f"{phase}.optimizer.grad_clip", optim.grad_clip, "must be > 0")


def _validate_micro_retrain(retrain) -> None:
    _require(
        0.0 < retrain.drop_path_keep_prob <= 1.0,
        "retrain.drop_path_keep_prob",
        retrain.drop_path_keep_prob,
        "must be in (0, 1]",
    )


def _validate_model(space: str, phase: str, model) -> None:
    """Checks one model section (`search.model` or `retrain.model`) of a space."""
    if space == "micro" or "num_layers" in model:
        minimum, multiple = (3, 3) if space == "micro" else (1, 1)
        _require(
            model.num_layers >= minimum and model.num_layers % multiple == 0,
            f"{phase}.model.num_layers",
            model.num_layers,
            "must be a positive multiple of 3" if space == "micro" else "must be >= 1",
        )
    _require(
        model.filters >= 2 and model.filters % 2 == 0,
        f"{phase}.model.filters",
        model.filters,
        "must be an even number >= 2",
    )
    _require(
        0.0 < model.keep_prob <= 1.0,
        f"{phase}.model.keep_prob",
        model.keep_prob,
        "must be in (0, 1]",
    )
    if space == "micro" and phase == "search":
        _require(
            model.num_nodes >= 1,
            "search.model.num_nodes",
            model.num_nodes,
            "must be >= 1 (computed nodes per cell, B - 2)",
        )
    if space == "macro" and phase == "search":
        from enas_tf.spaces import macro  # configs stays importable without TensorFlow

        try:
            macro.parse_ops(model.ops)
        except ValueError as error:
            raise ConfigError(f"config.search.model.ops={model.ops!r}: {error}") from None


def optimizer_section(*, lr_max, lr_min, t0=10, t_mul=2, momentum=0.9, l2=1e-4, grad_clip=5.0):
    """Child optimizer settings: Nesterov SGD with cosine warm restarts (paper section 3.2)."""
    return ml_collections.ConfigDict(
        dict(
            lr_max=lr_max,
            lr_min=lr_min,
            t0=t0,
            t_mul=t_mul,
            momentum=momentum,
            l2=l2,
            grad_clip=grad_clip,
        )
    )


def policy_section(**overrides) -> ml_collections.ConfigDict:
    """`search.check`: the in-run policy-vs-random check (`enas_tf.search_check`).

    num_arcs policy samples and num_arcs uniform arcs, each scored on the same num_batches
    validation minibatches of `search.eval_batch_size`, after every controller phase and in
    derive. Cost: 2 x num_arcs x num_batches supernet evaluations per check.
    """
    return ml_collections.ConfigDict(dict(dict(num_arcs=20, num_batches=1), **overrides))


def base_config() -> ml_collections.ConfigDict:
    """Every key a run reads, with the paper's CIFAR-10 micro values as defaults.

    Config files start from this and change what differs, so all configs share one schema.
    """
    c = ml_collections.ConfigDict()
    c.space = "micro"
    c.seed = 0
    # XLA per phase: auto = on for TPU only (where it is required); it is often slower on CPU.
    c.jit_compile = ml_collections.ConfigDict(dict(search="auto", retrain="auto"))
    # auto = mixed_bfloat16 on TPU (controller and REINFORCE math stay float32), else float32.
    c.precision = "auto"
    c.arc = ""  # path to an arc.json or a published arc name: skip search, retrain this arc.
    c.log_every_steps = 50
    # Training steps per tf.function call: dispatch (large on TPU) is paid once per call.
    c.steps_per_loop = 1
    # Checkpoint every this many child / controller / retrain steps, besides the phase ends
    # (what a preempted run can lose); 0 = at phase and epoch ends only.
    c.checkpoint_every_steps = 500

    c.data = ml_collections.ConfigDict()
    c.data.source = "embedded"  # 'embedded', 'tfds', or a path to cifar-10-batches-py.
    c.data.tfds_name = "cifar10"
    c.data.tfds_data_dir = ""
    c.data.num_valid = 5000  # carved from the end of the training set (45k/5k).
    c.data.max_train_examples = 0  # 0 = all.
    c.data.embedded = ml_collections.ConfigDict(
        dict(num_train=6000, num_test=1000, image_size=32, seed=0)
    )

    c.search = ml_collections.ConfigDict()
    # enas: the controller samples the children and learns; random: the random-search baseline
    # (uniform children, no controller updates, derive picks the best of uniform samples).
    c.search.policy = "enas"
    c.search.check = policy_section()
    # per_replica: each replica trains its own sampled child per step (the Monte Carlo average
    # of the paper's Eq. 1 with M = replicas); shared: one child for all replicas.
    c.search.arc_sampling = "per_replica"
    c.search.model = ml_collections.ConfigDict(
        dict(num_layers=6, filters=20, num_nodes=5, keep_prob=0.9, use_aux_head=True)
    )
    c.search.aux_weight = 0.4
    c.search.batch_size = 160
    c.search.eval_batch_size = 500  # one validation minibatch scores a child.
    c.search.epochs = 150
    c.search.optimizer = optimizer_section(lr_max=0.05, lr_min=0.0005, l2=1e-4)
    c.search.controller = ml_collections.ConfigDict(
        dict(
            lstm_size=64,
            tanh_constant=1.10,
            op_tanh_reduce=2.5,
            temperature=0.0,  # 0 = none.
            # Initial controller logit bias of the two separable convolutions (micro), inside
            # the tanh. The original code's 10.0 saturates the tanh: that bias never learns and
            # no other op can ever rise above the sep convs (BUILD_NOTES, controller learning).
            op_bias_init=10.0,
            entropy_weight=1e-4,
            learning_rate=3.5e-3,
            baseline_decay=0.99,
            train_steps=30,  # controller updates per epoch.
            num_aggregate=10,  # sampled arcs whose gradients one update averages.
            # KL(skip probability || skip_target) penalty on the controller loss, weighted by
            # skip_weight; only spaces with skip decisions (macro) have anything to penalise.
            skip_target=0.4,
            skip_weight=0.8,
        )
    )

    # num_batches: validation minibatches every candidate is scored on (the paper: 1).
    c.derive = ml_collections.ConfigDict(dict(num_candidates=10, num_batches=1))

    c.retrain = ml_collections.ConfigDict()
    c.retrain.model = ml_collections.ConfigDict(
        dict(num_layers=15, filters=36, keep_prob=0.9, use_aux_head=True)
    )
    c.retrain.aux_weight = 0.4
    c.retrain.batch_size = 144
    c.retrain.eval_batch_size = 500
    c.retrain.epochs = 630
    c.retrain.optimizer = optimizer_section(lr_max=0.05, lr_min=0.0001, l2=2e-4)
    c.retrain.drop_path_keep_prob = 0.6
    c.retrain.cutout_size = 16  # the paper's 2.89% used CutOut; 0 reproduces the 3.54% setting.
    return c


def macro_base_config() -> ml_collections.ConfigDict:
    """Every key a macro run reads, with the paper's CIFAR-10 macro values as defaults.

    Search (paper 3.2, appendix B; the authors' scripts where the paper is silent): 12 layers x
    36 filters, all 6 ops, batch 128, 310 epochs, cosine lr 0.05 -> 0.001 with T0=10, Tmul=2,
    l2 1e-4 (script: 2.5e-4), keep_prob 0.9; controller Adam lr 3.5e-4 (script: 1e-3), tanh
    constant 2.5 and temperature 5.0 (script: 1.5 / none), entropy weight 0.1 (script: 1e-4),
    skip KL to 0.4 with weight 0.8, 50 updates x 20 sampled arcs per epoch (script).
    Final (scripts/cifar10_macro_final.sh): 96 filters doubling at the two pooling steps, the
    number of layers given by the arc (24 for the published one), keep_prob 0.5, batch 100,
    310 epochs, lr 0.05 -> 0.001, l2 1e-4 (paper; script 2e-4), no CutOut (the paper's 4.23%).
    """
    c = base_config()
    c.space = "macro"
    c.search.model = ml_collections.ConfigDict(
        dict(num_layers=12, filters=36, keep_prob=0.9, ops="all", double_filters=False)
    )
    del c.search["aux_weight"]
    c.search.batch_size = 128
    c.search.epochs = 310
    c.search.optimizer = optimizer_section(lr_max=0.05, lr_min=0.001, l2=1e-4)
    ctrl = c.search.controller
    ctrl.tanh_constant = 2.5
    ctrl.op_tanh_reduce = 1.0
    ctrl.temperature = 5.0
    ctrl.op_bias_init = 0.0  # the authors' macro controller has no op bias
    ctrl.entropy_weight = 0.1
    ctrl.learning_rate = 3.5e-4
    ctrl.train_steps = 50
    ctrl.num_aggregate = 20
    # The fixed network's depth is the arc's; the retrain model section sets its width.
    c.retrain.model = ml_collections.ConfigDict(
        dict(filters=96, keep_prob=0.5, double_filters=True)
    )
    del c.retrain["aux_weight"]
    del c.retrain["drop_path_keep_prob"]
    c.retrain.batch_size = 100
    c.retrain.epochs = 310
    c.retrain.optimizer = optimizer_section(lr_max=0.05, lr_min=0.001, l2=1e-4)
    c.retrain.cutout_size = 0
    return c


def rnn_base_config() -> ml_collections.ConfigDict:
    """Every key an RNN-cell (language model) search reads, with the paper's PTB values.

    Paper 3.1 and appendix A: N = 12 nodes, SGD lr 20 decayed x0.96 per epoch from epoch 15,
    150 epochs, global-norm clipping 0.25, l2 1e-7, batch 64, BPTT 35, shared weights
    U(-0.025, 0.025), BN on the cell output during the search; controller LSTM 100, tanh
    constant 2.5, temperature 5.0, entropy weight 1e-4, Adam 3.5e-4, 2000 steps per epoch.
    From the authors' enas_lm code where the paper is silent: hidden size, dropout rates, the
    reward 80 / perplexity, the previous-node distance prior 1/6.
    """
    c = base_config()
    c.space = "rnn"
    c.data = ml_collections.ConfigDict()
    c.data.source = "embedded"  # 'embedded' or a directory with ptb.{train,valid,test}.txt
    c.data.valid_from_train_tail = 0  # > 0: carve valid from train's tail (a logged deviation)
    c.data.embedded = ml_collections.ConfigDict(
        dict(num_train_tokens=100_000, num_valid_tokens=10_000, num_test_tokens=10_000, seed=0)
    )
    c.search = ml_collections.ConfigDict()
    c.search.policy = "enas"  # or "random": the random-search baseline (see base_config)
    c.search.check = policy_section()
    # per_replica: each replica trains its own sampled child per step (the Monte Carlo average
    # of the paper's Eq. 1 with M = replicas); shared: one child for all replicas.
    c.search.arc_sampling = "per_replica"
    c.search.model = ml_collections.ConfigDict(
        dict(
            num_nodes=12,
            hidden_size=200,
            output="loose_ends",  # or "all_but_first" (enas_lm)
            init_range=0.025,
            batch_norm_output=True,
            dropout=ml_collections.ConfigDict(
                dict(
                    embedding_words=0.1, embedding=0.2, cell_input=0.75, recurrent=0.25, output=0.75
                )
            ),
        )
    )
    c.search.batch_size = 64
    c.search.eval_batch_size = 64  # rows of the validation window that scores a child
    c.search.bptt = 35
    c.search.epochs = 150
    c.search.optimizer = ml_collections.ConfigDict(
        dict(lr=20.0, decay=0.96, decay_start_epoch=15, grad_clip=0.25, l2=1e-7)
    )
    c.search.controller = ml_collections.ConfigDict(
        dict(
            lstm_size=100,
            tanh_constant=2.5,
            op_tanh_reduce=1.0,
            temperature=5.0,
            op_bias_init=0.0,  # unused: no separable convolutions in the rnn space
            entropy_weight=1e-4,
            learning_rate=3.5e-4,
            baseline_decay=0.99,
            train_steps=2000,
            num_aggregate=1,
            skip_target=0.4,  # unused: the rnn space has no skip decisions
            skip_weight=0.0,
            reward_constant=80.0,
            distance_prior=1.0 / 6.0,
        )
    )
    c.retrain = ml_collections.ConfigDict()
    c.retrain.model = ml_collections.ConfigDict(
        dict(
            hidden_size=800,  # enas_lm's fixed model: 24.6M parameters with a 10k vocabulary
            output="loose_ends",
            init_range=0.04,
            dropout=c.search.model.dropout.to_dict(),
        )
    )
    c.retrain.batch_size = 64
    c.retrain.eval_batch_size = 10  # rows when evaluating whole splits (state carried)
    c.retrain.bptt = 35
    c.retrain.epochs = 150
    c.retrain.optimizer = c.search.optimizer.to_dict()
    return c

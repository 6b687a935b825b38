"""The default values of every config key, per search space (big_vision style configs).

`base_config()` holds every key a run reads with the paper's CIFAR-10 micro values;
`macro_base_config()` and `rnn_base_config()` start from it and set what their space changes.
The config files in `configs/` start from one of these and change what their run needs. The
controller presets (`learnable`, `paper`) are applied by `apply_controller_preset`; each space's
`learnable` values live with the space (`enas_tf.spaces.registry`).
"""

from __future__ import annotations

import ml_collections
from ml_collections import config_dict

from enas_tf.errors import ConfigError
from enas_tf.spaces import registry

CONTROLLER_PRESETS = ("learnable", "paper")


def apply_controller_preset(config, preset: str) -> None:
    """Sets `search.controller` to the `learnable` settings or leaves the `paper` ones.

    Raises:
      ConfigError: for an unknown preset.
    """
    if preset not in CONTROLLER_PRESETS:
        raise ConfigError(f"controller={preset!r}: must be one of {CONTROLLER_PRESETS}")
    if preset == "learnable":
        config.search.controller.update(registry.of(config).learnable_controller)


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
    """`search.check`: the in-run policy-vs-random check (`enas_tf.search.check`).

    num_arcs policy samples, num_arcs uniform arcs and num_arcs samples of the controller's
    initial (untrained) policy, each scored on the same num_batches validation minibatches of
    `search.eval_batch_size`, after every controller phase and in derive; the initial policy
    tells learning from the controller's built-in prior. Cost: 3 x num_arcs x num_batches
    supernet evaluations per check (under `search.policy=random`, with no controller, only the
    uniform arcs: 1 x). every_epochs: check after every this many epochs and always after the
    last one (a search of many short epochs need not pay a check for each).
    """
    return ml_collections.ConfigDict(
        dict(dict(num_arcs=20, num_batches=1, every_epochs=1), **overrides)
    )


def audit_section(*model_keys: str) -> ml_collections.ConfigDict:
    """`audit`: what `--mode=audit` retrains after a search (`enas_tf.audit`, README "Audit").

    The derived arc, the next-best `num_candidates` derive candidates and `num_random` uniformly
    random arcs of the space are each retrained alone with the `retrain` section for `epochs`
    epochs (at most `retrain.epochs`: a short-budget ranking, not the final retrain; a cosine
    schedule's first period is cut to fit so that it still anneals), and scored by the search's
    shared weights on `score_batches` validation minibatches of `search.eval_batch_size`.
    `model` holds the `retrain.model` sizes an audit may shrink (`--config.audit.model.filters=8`;
    None keeps the retrain's), since a ranking needs less than the final model. Cost: 1 +
    num_candidates + num_random retrains, plus one supernet evaluation per arc and minibatch.
    """
    return ml_collections.ConfigDict(
        dict(
            num_candidates=3,
            num_random=8,
            epochs=10,
            score_batches=5,
            model=ml_collections.ConfigDict(
                {key: config_dict.placeholder(int) for key in model_keys}
            ),
        )
    )


def base_config() -> ml_collections.ConfigDict:
    """Every key a run reads, with the paper's CIFAR-10 micro values as defaults.

    Config files start from this and change what differs, so all configs share one schema.
    """
    c = ml_collections.ConfigDict()
    c.space = "micro"
    c.seed = 0
    # The seed fixes the sampled arcs, data order and initial weights; on CPU that makes a
    # rerun identical. True also asks TensorFlow for deterministic kernels (GPU: cuDNN), at a
    # cost in speed (README, "Reproducibility").
    c.deterministic = False
    # XLA per phase: auto = on for TPU only (where it is required); it is often slower on CPU.
    c.jit_compile = ml_collections.ConfigDict(dict(search="auto", retrain="auto"))
    # auto = mixed_bfloat16 on TPU (controller and REINFORCE math stay float32), else float32.
    c.precision = "auto"
    # TensorFlow's graph optimiser (Grappler): auto = off on runs with CPUs only, where it made
    # the paper micro supernet's step slower and its start-up ~4 s longer (BUILD_NOTES, issue
    # #27); on with GPUs or a TPU (layout and other device rewrites). 'on' / 'off' force it.
    c.graph_optimizer = "auto"
    c.arc = ""  # path to an arc.json or a published arc name: skip search, retrain this arc.
    c.log_every_steps = 50
    # Training steps per tf.function call: dispatch (large on TPU) is paid once per call.
    c.steps_per_loop = 1
    # Checkpoint every this many child / controller / retrain steps, besides the phase ends
    # (what a preempted run can lose); 0 = at phase and epoch ends only.
    c.checkpoint_every_steps = 500
    # Under TF_CONFIG (several workers): how long a worker waits for the cluster's other tasks
    # to start before it stops with an error naming them (enas_tf/runtime/rendezvous.py).
    c.cluster_wait_seconds = 600

    c.data = ml_collections.ConfigDict()
    # 'embedded'; a cifar-10-batches-py directory; an image folder (class subfolders, or
    # train/ valid/ test/ of them); a .npz (x_train, y_train, ...); 'tfds:NAME' (a prepared
    # TFDS dataset). README, "Search on your own data"; enas_tf/data/image_sources.py.
    c.data.source = "embedded"
    c.data.tfds_name = "cifar10"  # for the older source='tfds'
    c.data.tfds_data_dir = ""  # where TFDS datasets are prepared ('' = ~/tensorflow_datasets)
    # Split names: TFDS split specs (slicing allowed: 'train[:90%]') or a folder's
    # subfolders; valid_split '' = the folder's valid/ (validation/, val/) if any, else carved.
    c.data.train_split = "train"
    c.data.valid_split = ""
    c.data.test_split = "test"
    c.data.num_valid = 5000  # carved from the end of the training set (45k/5k).
    c.data.valid_fraction = 0.0  # > 0: carve this fraction instead of num_valid
    c.data.test_fraction = 0.0  # > 0: carve a test split from train when the source has none
    c.data.max_train_examples = 0  # 0 = all.
    c.data.color_mode = "auto"  # auto (as the data), grayscale, rgb, rgba
    c.data.image_size = ""  # '' = the data's own size; '32' = 32x32; '48x64' = HxW
    c.data.resize_mode = "stretch"  # stretch, crop (keep aspect, centre), pad (keep aspect)
    # TFDS-format sources (tfds:NAME, a dataset directory) stream from their TFRecord shards
    # when decoded they would exceed memory_limit_mb (auto), or always (on) / never (off).
    c.data.streaming = "auto"
    c.data.memory_limit_mb = 2048.0
    c.data.shuffle_buffer = 10_000  # streamed examples shuffled at a time (still encoded)
    c.data.embedded = ml_collections.ConfigDict(
        dict(num_train=6000, num_test=1000, image_size=32, seed=0)
    )

    c.search = ml_collections.ConfigDict()
    # enas: the controller samples the children and learns; random: the random-search baseline
    # (uniform children, no controller updates, derive picks the best of uniform samples).
    c.search.policy = "enas"
    # policy: under search.policy=enas the children the shared weights train on are the
    # controller's samples (the paper); uniform: uniformly random throughout, so the shared
    # weights are not trained further on whatever the policy already prefers (one-shot style,
    # Bender et al. 2018 / SPOS; BUILD_NOTES, issue #24) while the controller still learns.
    c.search.child_sampling = "policy"
    c.search.check = policy_section()
    # per_replica: each replica trains its own sampled child per step (the Monte Carlo average
    # of the paper's Eq. 1 with M = replicas); shared: one child for all replicas.
    c.search.arc_sampling = "per_replica"
    c.search.model = ml_collections.ConfigDict(
        dict(num_layers=6, filters=20, num_nodes=5, keep_prob=0.9, use_aux_head=True)
    )
    # Separable-conv weight sets of a shared cell (`enas_tf.layers.micro_cells`): per_input
    # (per edge: the paper and the original code), per_node, per_cell.
    c.search.model.sep_weights = "per_input"
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
            # ema: the paper's moving-average baseline (baseline_decay); group: each arc's
            # baseline is the mean reward of the other arcs of its update (leave-one-out).
            baseline="ema",
            # per_arc: every arc of an update is scored on its own validation minibatch (the
            # original code); per_update: all on the same one, so the minibatch's difficulty
            # is common to the update's arcs and cancels in a group baseline.
            reward_batch="per_arc",
            train_steps=30,  # controller updates per epoch.
            num_aggregate=10,  # sampled arcs whose gradients one update averages.
            # Epochs of uniformly sampled children and no controller updates before the
            # controller learns (0: the paper; TuNAS-style warm-up, BUILD_NOTES).
            warmup_epochs=0,
            # KL(skip probability || skip_target) penalty on the controller loss, weighted by
            # skip_weight; only spaces with skip decisions (macro) have anything to penalise.
            skip_target=0.4,
            skip_weight=0.8,
        )
    )

    # num_batches: validation minibatches every candidate is scored on (the paper: 1).
    # rank_by: score = the task's score (accuracy; perplexity), the paper; loss = the mean
    # validation cross-entropy, which separates candidates whose accuracies tie (issue #24).
    c.derive = ml_collections.ConfigDict(dict(num_candidates=10, num_batches=1, rank_by="score"))
    c.audit = audit_section("num_layers", "filters")

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
    # '' = the search's resolution; e.g. '64' retrains (and exports) at 64x64 while the search
    # ran at data.image_size: images are loaded at this size and the search's batches resized.
    c.retrain.image_size = ""
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
    c.audit = audit_section("filters")  # the depth of a macro network is its arc's
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
    # 'embedded', or a directory of word-level text: PTB's ptb.{train,valid,test}.txt,
    # WikiText's wiki.{train,valid,test}.tokens or {train,valid,test}.txt are found by name.
    c.data.source = "embedded"
    # Other file names, relative to data.source ('' = found by name): train and test, and
    # valid unless valid_from_train_tail > 0. enas_tf/data/text_dirs.py.
    c.data.train_file = ""
    c.data.valid_file = ""
    c.data.test_file = ""
    # At most this many words, <eos> and <unk> included; rarer training words and unseen
    # valid/test words become <unk> (0 = every training word; enas_tf/data/text_files.py).
    c.data.vocab_size = 0
    c.data.valid_from_train_tail = 0  # > 0: carve valid from train's tail (a logged deviation)
    c.data.embedded = ml_collections.ConfigDict(
        dict(num_train_tokens=100_000, num_valid_tokens=10_000, num_test_tokens=10_000, seed=0)
    )
    c.search = ml_collections.ConfigDict()
    c.search.policy = "enas"  # or "random": the random-search baseline (see base_config)
    c.search.child_sampling = "policy"  # or "uniform" (see base_config)
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
            baseline="ema",  # see base_config
            reward_batch="per_arc",
            train_steps=2000,
            num_aggregate=1,
            warmup_epochs=0,  # see base_config
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
    c.audit = audit_section("hidden_size")
    return c

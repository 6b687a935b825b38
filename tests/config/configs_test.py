"""Tests for enas_tf.config and the config files in configs/."""

import json
import os

import pytest
from ml_collections import config_flags  # noqa: F401  (ensures the dependency is installed)

from enas_tf import config as config_lib

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load(name, arg=None):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, "configs", name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg)


def _set(config, dotted_key, value):
    with config.unlocked():
        section = config
        *parents, leaf = dotted_key.split(".")
        for part in parents:
            section = section[part]
        section[leaf] = value


@pytest.mark.parametrize(
    "name,arg",
    [
        ("quickstart.py", None),
        ("cifar10_micro.py", None),
        ("cifar10_micro.py", "phase=final"),
        ("cifar10_micro.py", "runlocal"),
        ("cifar10_micro.py", "phase=final,runlocal"),
        ("cifar10_macro.py", None),
        ("cifar10_macro.py", "phase=final"),
        ("cifar10_macro.py", "runlocal"),
        ("cifar10_macro.py", "phase=final,runlocal"),
        ("tiny.py", None),
        ("tiny.py", "space=macro"),
        ("tiny.py", "space=rnn"),
        ("ptb_rnn.py", None),
        ("ptb_rnn.py", "phase=final"),
        ("ptb_rnn.py", "runlocal"),
        ("image_folder.py", "path=/data/pets"),
        ("image_folder.py", "path=/data/pets,size=64,space=macro"),
    ],
)
def test_every_config_validates_and_serialises(name, arg):
    config = _load(name, arg)
    config_lib.validate(config)
    tag = name + str(arg)
    expected_space = "macro" if "macro" in tag else "rnn" if "rnn" in tag else "micro"
    assert json.loads(config.to_json())["space"] == expected_space


def test_cifar10_micro_has_the_paper_settings():
    config = _load("cifar10_micro.py")
    assert (config.search.model.num_layers, config.search.model.filters) == (6, 20)
    assert config.search.model.num_nodes == 5  # B = 7
    assert config.search.epochs == 150 and config.search.batch_size == 160
    assert (config.retrain.model.num_layers, config.retrain.model.filters) == (15, 36)
    assert config.retrain.epochs == 630 and config.retrain.batch_size == 144
    assert config.retrain.optimizer.lr_max == 0.05 and config.retrain.optimizer.t_mul == 2
    assert config.search.controller.learning_rate == 3.5e-3
    assert config.arc == ""
    assert _load("cifar10_micro.py", "phase=final").arc == "enas_micro_final"


def test_cifar10_macro_has_the_paper_settings():
    config = _load("cifar10_macro.py", "controller=paper")
    model = config.search.model
    assert (model.num_layers, model.filters, model.ops) == (12, 36, "all")
    assert config.search.epochs == 310 and config.search.batch_size == 128
    ctrl = config.search.controller
    # Paper 3.2: tanh constant 2.5, temperature 5.0, entropy weight 0.1, Adam lr 0.00035;
    # skip KL to rho = 0.4 weighted by 0.8.
    assert (ctrl.tanh_constant, ctrl.temperature, ctrl.entropy_weight) == (2.5, 5.0, 0.1)
    assert ctrl.learning_rate == 3.5e-4
    assert (ctrl.skip_target, ctrl.skip_weight) == (0.4, 0.8)
    assert config.retrain.model.filters == 96 and config.retrain.model.double_filters
    assert not model.double_filters  # the authors' search keeps the width constant
    assert _load("cifar10_macro.py", "phase=final").arc == "enas_macro_final"
    assert _load("cifar10_macro.py", "runlocal").data.source == "embedded"
    # Keys of the micro space do not exist in a macro config (no silent no-op overrides).
    assert "num_nodes" not in model and "drop_path_keep_prob" not in config.retrain


@pytest.mark.parametrize(
    "name, learnable",
    [
        ("cifar10_micro.py", dict(tanh_constant=2.5, op_tanh_reduce=1.0, op_bias_init=0.5)),
        ("cifar10_macro.py", dict(learning_rate=3.5e-3, entropy_weight=1e-4)),
        ("ptb_rnn.py", dict(learning_rate=3.5e-3)),
    ],
)
def test_configs_run_a_learnable_controller_with_the_paper_one_override_away(name, learnable):
    # bench/controller_learning.py: the paper's controller settings cannot concentrate the
    # policy at CPU budgets, so the configs default to ones that can (BUILD_NOTES).
    default, paper = _load(name), _load(name, "controller=paper")
    for key, value in learnable.items():
        assert default.search.controller[key] == value, key
        assert paper.search.controller[key] != value, key
    with pytest.raises(config_lib.ConfigError, match="controller='best'"):
        _load(name, "controller=best")


def test_search_policy_and_check_are_validated():
    config = _load("tiny.py")
    config.unlock()
    config.search.policy = "greedy"
    with pytest.raises(config_lib.ConfigError, match="search.policy='greedy'"):
        config_lib.validate(config)
    config.search.policy = "random"
    config.search.check.num_arcs = 1
    with pytest.raises(config_lib.ConfigError, match="search.check.num_arcs=1"):
        config_lib.validate(config)


@pytest.mark.parametrize(
    "key,value,match",
    [
        ("search.model.ops", "conv_3x3,conv7x7", r"search.model.ops='conv_3x3,conv7x7'.*conv7x7"),
        ("search.model.num_layers", 0, "search.model.num_layers=0: must be >= 1"),
        ("search.controller.skip_target", 1.0, "skip_target=1.0"),
    ],
)
def test_validate_names_the_bad_macro_key(key, value, match):
    config = _load("cifar10_macro.py")
    _set(config, key, value)
    with pytest.raises(config_lib.ConfigError, match=match):
        config_lib.validate(config)


def test_configs_are_locked_against_new_keys():
    config = _load("quickstart.py")
    with pytest.raises(AttributeError):
        config.search.epocs = 3  # misspelt: must not be silently added


def test_parse_arg_rejects_unknown_and_parses_types():
    args = config_lib.parse_arg("phase=final,runlocal", phase="search", runlocal=False)
    assert args.phase == "final" and args.runlocal is True
    with pytest.raises(config_lib.ConfigError, match="unknown config argument 'fase'"):
        config_lib.parse_arg("fase=final", phase="search")
    with pytest.raises(config_lib.ConfigError, match="phase='serch'"):
        _load("cifar10_micro.py", "phase=serch")


@pytest.mark.parametrize(
    "key,value,match",
    [
        ("search.model.num_layers", 4, "search.model.num_layers=4: must be a positive multiple"),
        ("retrain.model.filters", 7, "retrain.model.filters=7"),
        ("search.controller.num_aggregate", 0, "num_aggregate=0"),
        ("retrain.drop_path_keep_prob", 0.0, "drop_path_keep_prob=0.0"),
        ("jit_compile.search", "maybe", "jit_compile.search='maybe'"),
        ("jit_compile.retrain", "yes", "jit_compile.retrain='yes'"),
        ("precision", "float16", "precision='float16'"),
        ("graph_optimizer", "maybe", "graph_optimizer='maybe'"),
        ("search.arc_sampling", "each", "search.arc_sampling='each'"),
        ("search.child_sampling", "random", "search.child_sampling='random'"),
        ("cluster_wait_seconds", 0, "cluster_wait_seconds=0: must be > 0"),
        ("derive.rank_by", "accuracy", "derive.rank_by='accuracy'"),
        ("steps_per_loop", 0, "steps_per_loop=0"),
        ("checkpoint_every_steps", -1, "checkpoint_every_steps=-1"),
        ("search.optimizer.grad_clip", 0.0, "grad_clip=0.0"),
        ("derive.num_batches", 0, "derive.num_batches=0: must be >= 1"),
        ("derive.num_candidates", 0, "derive.num_candidates=0: must be >= 1"),
        ("audit.num_random", 0, "audit.num_random=0: must be >= 1"),
        ("audit.num_candidates", -1, "audit.num_candidates=-1: must be >= 0"),
        ("audit.epochs", 0, "audit.epochs=0: must be >= 1"),
        ("audit.score_batches", 0, "audit.score_batches=0: must be >= 1"),
        ("audit.model.filters", 7, r"audit's retrain .*retrain.model.filters=7"),
        ("audit.num_random", 10**6, "audit.num_random=1000000: more arcs"),
        ("search.controller.baseline", "mean", "search.controller.baseline='mean'"),
        ("search.controller.reward_batch", "one", "search.controller.reward_batch='one'"),
        ("search.controller.warmup_epochs", 1000, "warmup_epochs=1000: must be >= 0 and below"),
        ("search.check.every_epochs", 0, "search.check.every_epochs=0: must be >= 1"),
        ("search.controller.warmup_epochs", -1, "warmup_epochs=-1"),
        ("search.model.sep_weights", "per_edge", "search.model.sep_weights='per_edge'"),
        ("data.color_mode", "cmyk", "data.color_mode='cmyk'"),
        ("data.resize_mode", "squash", "data.resize_mode='squash'"),
        ("data.image_size", "32x", r"data.image_size='32x': must be ''"),
        ("data.valid_fraction", 1.0, "data.valid_fraction=1.0: must be in"),
        ("data.streaming", "yes", "data.streaming='yes'"),
        ("data.memory_limit_mb", 0.0, "data.memory_limit_mb=0.0: must be > 0"),
        ("data.shuffle_buffer", 0, "data.shuffle_buffer=0: must be >= 1"),
        ("retrain.image_size", "64", "retrain.image_size='64': needs data.image_size too"),
        ("retrain.image_size", "6x", "retrain.image_size='6x': must be ''"),
    ],
)
def test_validate_names_the_bad_key(key, value, match):
    config = _load("quickstart.py")
    _set(config, key, value)
    with pytest.raises(config_lib.ConfigError, match=match):
        config_lib.validate(config)


def test_the_group_baseline_needs_two_arcs_per_update():
    config = _load("quickstart.py")
    _set(config, "search.controller.baseline", "group")
    _set(config, "search.controller.num_aggregate", 1)
    with pytest.raises(config_lib.ConfigError, match="num_aggregate=1: must be >= 2 with"):
        config_lib.validate(config)
    _set(config, "search.controller.num_aggregate", 2)
    config_lib.validate(config)


def test_the_audit_retrains_at_its_own_budget_never_longer_than_the_retrain():
    config = _load("quickstart.py")
    _set(config, "audit.model.filters", 8)
    audit = config_lib.audit_retrain_config(config)
    assert audit.retrain.epochs == config.audit.epochs < config.retrain.epochs
    assert audit.retrain.optimizer.t0 == config.audit.epochs  # the cosine cycle fits
    assert audit.retrain.model.filters == 8 and config.retrain.model.filters == 12
    assert audit.retrain.model.num_layers == config.retrain.model.num_layers  # None: kept
    assert audit.search.to_dict() == config.search.to_dict()
    _set(config, "audit.epochs", 50)
    assert config_lib.audit_retrain_config(config).retrain.epochs == config.retrain.epochs
    rnn = _load("tiny.py", "space=rnn")
    _set(rnn, "audit.model.hidden_size", 8)
    assert config_lib.audit_retrain_config(rnn).retrain.model.hidden_size == 8


def test_the_image_folder_config_takes_its_path_size_and_space():
    config = _load("image_folder.py", "path=/data/x,size=48")
    assert config.data.source == "/data/x" and config.data.image_size == "48"
    assert config.data.valid_fraction == 0.1 and config.data.resize_mode == "crop"
    with pytest.raises(config_lib.ConfigError, match="space='rnn'"):
        _load("image_folder.py", "space=rnn")


def test_check_batch_sizes_names_the_key_and_the_split_size():
    config = config_lib.base_config()
    config_lib.check_batch_sizes(config, num_train=45000, num_valid=5000)
    with pytest.raises(config_lib.ConfigError, match=r"search.eval_batch_size=500.*\(100 images\)"):
        config_lib.check_batch_sizes(config, num_train=45000, num_valid=100)
    with pytest.raises(config_lib.ConfigError, match=r"search.batch_size=160.*\(100 images\)"):
        config_lib.check_batch_sizes(config, num_train=100, num_valid=5000)
    config.search.batch_size = 100
    with pytest.raises(config_lib.ConfigError, match=r"retrain.batch_size=144.*\(100 images\)"):
        config_lib.check_batch_sizes(config, num_train=100, num_valid=5000)

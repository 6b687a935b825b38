"""Tests for enas_tf.config.limits: NaN, infinities and absurd counts named by their key."""

import ml_collections
import pytest

from configs import cifar10_macro, cifar10_micro, ptb_rnn, quickstart, tiny
from enas_tf.config.limits import MAX_SEED, check_numbers
from enas_tf.errors import ConfigError


def _config(**values):
    return ml_collections.ConfigDict(values)


@pytest.mark.parametrize(
    "config, message",
    [
        (
            _config(search=dict(optimizer=dict(lr_max=float("nan")))),
            r"search\.optimizer\.lr_max=nan",
        ),
        (_config(retrain=dict(l2=float("-inf"))), r"retrain\.l2=-inf: must be a finite number"),
        (_config(bias=[0.0, float("inf")]), r"bias\[1\]=inf"),
        (
            _config(search=dict(epochs=10**20)),
            r"search\.epochs=100000000000000000000: out of range",
        ),
        (_config(search=dict(epochs=100_001)), r"search\.epochs=100001: more epochs than any run"),
        (_config(model=dict(num_nodes=65)), r"model\.num_nodes=65: more nodes per cell"),
        (_config(retrain=dict(batch_size=2**21)), r"retrain\.batch_size=2097152: more examples"),
        (
            _config(checkpoint_every_steps=2 * 10**9),
            r"checkpoint_every_steps=2000000000: more steps",
        ),
    ],
)
def test_unusable_numbers_are_refused_by_key(config, message):
    with pytest.raises(ConfigError, match=message):
        check_numbers(config)


def test_flags_and_strings_are_not_numbers():
    check_numbers(_config(deterministic=True, ops="all", seed=12345, search=dict(epochs=310)))


@pytest.mark.parametrize(
    "module, arg",
    [
        (tiny, None),
        (quickstart, None),
        (cifar10_micro, "phase=final"),
        (cifar10_micro, None),
        (cifar10_macro, "phase=final"),
        (ptb_rnn, "phase=final"),
    ],
)
def test_the_paper_settings_are_within_the_limits(module, arg):
    check_numbers(module.get_config(arg) if arg else module.get_config())


@pytest.mark.parametrize("seed", [-1, MAX_SEED + 1, 9007199254740991])
def test_a_seed_no_stage_can_use_is_refused_with_the_range(seed):
    with pytest.raises(ConfigError, match=rf"^config\.seed={seed}: must be in \[0, 9,223,344,"):
        check_numbers(_config(seed=seed))


def test_the_largest_seed_works_where_the_seed_becomes_64_bit_stateless_seeds():
    """The input pipelines take `seed * 100003 + epoch` and, in the audit and the checks,
    `seed * 1_000_003 + stream` as int64 stateless seeds: both must still fit."""
    from enas_tf.tasks import load_task

    config = tiny.get_config()
    with config.unlocked():
        config.seed = MAX_SEED
    check_numbers(config)
    task = load_task(config)
    assert next(iter(task.train_dataset(0, 0))) is not None
    audit_stream = MAX_SEED * 1_000_003 + 0xA0D18  # enas_tf.audit's minibatch stream
    assert next(iter(task.valid_dataset(shuffle_seed=audit_stream))) is not None

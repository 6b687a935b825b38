"""Tests for enas_tf.config.limits: NaN, infinities and absurd counts named by their key."""

import ml_collections
import pytest

from configs import cifar10_macro, cifar10_micro, ptb_rnn, quickstart, tiny
from enas_tf.config.limits import check_numbers
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

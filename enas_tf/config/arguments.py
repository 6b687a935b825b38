"""`key=value,flag` arguments of a config file (`configs/cifar10_micro.py:phase=final`)."""

from __future__ import annotations

import ml_collections

from enas_tf.errors import ConfigError


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

"""The errors that mean "the user gave something wrong": one base class the CLI catches.

Every check of user input (config values, data paths and files, arcs and arc files, workdirs,
checkpoints, TPU addresses) raises a subclass of `UserError` whose message names what is wrong
and how to fix it. `enas_tf.train` prints that message as one line and exits 1, without a
traceback; anything else is a bug and keeps its traceback. Each subclass also derives from the
built-in error that callers caught before this module existed (`ValueError`, `RuntimeError`),
so library users' `except ValueError` keeps working.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user; the message says what is wrong and how to fix it."""


class ConfigError(UserError, ValueError):
    """A config value out of range, inconsistent with another, or unknown."""


class DataError(UserError, ValueError):
    """A data source that is missing, unreadable or not the dataset it claims to be.

    The message names the path or dataset and what was expected there.
    """


class ArcError(UserError, ValueError):
    """An architecture outside its search space, or a malformed encoding of one.

    The message always says where the problem is (cell, node, field or token position) and what
    would be allowed, because arcs are often typed or edited by hand.
    """


class ArcFileError(ArcError):
    """An arc.json (or published name) that cannot be turned into an architecture.

    The message names the path or name, so a failure deep inside a pipeline points at the file.
    """


class WorkdirError(UserError, ValueError):
    """The workdir holds a run that the requested one cannot continue."""


class RequestError(UserError, ValueError):
    """A serving request body the exported model cannot answer (`enas_tf.rest_predict`).

    The message says what TF Serving would refuse: the signature, a missing input, a value
    that is not a tensor of the input's type.
    """


class CheckpointError(UserError, ValueError):
    """A checkpoint that does not belong to the model being restored."""


class DamagedCheckpointError(CheckpointError):
    """A checkpoint whose files cannot be read (truncated, corrupted, partly deleted).

    Unlike a checkpoint of another model, an older checkpoint beside it may still be intact:
    `enas_tf.runtime.replicas.CheckpointManager.restore_latest` falls back to it.
    """


class StorageError(UserError, RuntimeError):
    """A filesystem that refuses the run's writes: a full disk, no permission, read-only.

    Not a mistake in the input, but the user's to fix all the same, and a traceback from deep
    inside a checkpoint save would hide the one fact that matters: which path.
    """


class StrategyError(UserError, RuntimeError):
    """A TPU or cluster that cannot be reached or used as given."""


def require(condition: bool, key: str, value, allowed: str) -> None:
    """Raises `ConfigError` "config.KEY=VALUE: ALLOWED" unless `condition` holds.

    The one form every config check uses, so that each message names the key, the value it
    got and what would be allowed.
    """
    if not condition:
        raise ConfigError(f"config.{key}={value!r}: {allowed}")

"""Which task each search space searches on: the one place that maps a space name to code.

Modules outside `enas_tf.spaces` ask here instead of branching on `config.space`. The task is
named as "module:Class" and imported on first use, so reading the registry costs nothing (the
task modules import TensorFlow and the models).
"""

from __future__ import annotations

import importlib

# space name -> the task class its architectures are searched, retrained and exported with.
_TASKS = {
    "micro": "enas_tf.tasks.image:ImageTask",
    "macro": "enas_tf.tasks.image:ImageTask",
    "rnn": "enas_tf.tasks.language_model:LmTask",
}


def task_class(space: str):
    """The task class of `space` (`ImageTask` or `LmTask`).

    Raises:
      KeyError: for a name that is not a space (configs are validated before this is asked).
    """
    module, name = _TASKS[space].split(":")
    return getattr(importlib.import_module(module), name)

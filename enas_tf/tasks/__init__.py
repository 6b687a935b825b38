"""Tasks: what the search, derive, retraining and export need to know about the data.

* `image`: image classification (`ImageTask`, micro and macro spaces).
* `language_model`: word-level language modelling (`LmTask`, rnn space).

`load_task(config)` loads the config's data and returns its task; which task a space uses is
`enas_tf.spaces.registry`'s to say.
"""

from __future__ import annotations

from enas_tf.spaces import registry


def load_task(config):
    """The task of `config.space` on the config's data (loading checks the data path)."""
    return registry.task_class(config.space).load(config)

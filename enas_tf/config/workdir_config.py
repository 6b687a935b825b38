"""Which config keys a workdir fixes, and the check that a rerun keeps them.

A workdir resumes one run: a rerun whose config changes a key that fixes the shapes of
checkpointed variables or the data (`_STRUCTURAL_KEYS`) is refused before anything is written.
Keys added to those sections after workdirs of earlier versions exist (`_ADDED_KEYS`) count as
their old behaviour when a saved config lacks them, so an upgrade does not strand a workdir.
"""

from __future__ import annotations

import json
import os

from enas_tf.errors import WorkdirError
from enas_tf.runtime import files

# Keys that fix the shapes of checkpointed variables or the data: a workdir cannot change them.
_STRUCTURAL_KEYS = ("space", "seed", "data", "search.model", "retrain.model", "arc")


def lookup(config_dict: dict, dotted: str):
    """The value at a dotted key of a nested dict, or None."""
    value = config_dict
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


# Structural keys added after workdirs of earlier versions exist, with the value that
# reproduces the earlier behaviour: a saved config without one resumes as if it had it.
_ADDED_KEYS = {
    "data.train_split": "train",
    "data.valid_split": "",
    "data.test_split": "test",
    "data.valid_fraction": 0.0,
    "data.test_fraction": 0.0,
    "data.color_mode": "auto",
    "data.image_size": "",
    "data.resize_mode": "stretch",
    "data.streaming": "auto",
    "data.memory_limit_mb": 2048.0,
    "data.shuffle_buffer": 10_000,
    "data.train_file": "",
    "data.valid_file": "",
    "data.test_file": "",
    "data.vocab_size": 0,
}


def _with_added_keys(saved: dict, current: dict) -> dict:
    """`saved` plus the `_ADDED_KEYS` it predates (only those the current config has)."""
    for dotted, value in _ADDED_KEYS.items():
        section, key = dotted.split(".")
        saved_section = saved.get(section)
        if (
            isinstance(saved_section, dict)
            and key not in saved_section
            and key in current.get(section, {})
        ):
            saved_section[key] = value
    return saved


def check_workdir_config(config, workdir: str) -> None:
    """Refuses to resume a workdir whose saved config differs in a structural key."""
    path = os.path.join(workdir, "config.json")
    if not os.path.exists(path):
        return
    try:
        saved = files.read_json(path)
    except (OSError, json.JSONDecodeError) as error:
        raise WorkdirError(f"{path} is unreadable ({error}); use a new --workdir") from error
    current = json.loads(config.to_json())
    saved = _with_added_keys(saved, current)
    for key in _STRUCTURAL_KEYS:
        if lookup(saved, key) != lookup(current, key):
            raise WorkdirError(
                f"--workdir={workdir} was created with a different config.{key} "
                f"(saved {lookup(saved, key)!r}, now {lookup(current, key)!r}). A workdir "
                "resumes one run: use a new --workdir, or the saved config "
                f"(--config={path} is not a .py file; pass the same flags as before)."
            )

"""Reading and writing arc.json files, and published architectures by name."""

from __future__ import annotations

import json
import os

from enas_tf import files
from enas_tf.spaces import micro

_SPACES = {"micro": micro.MicroArc}


def published_names() -> tuple[str, ...]:
    return tuple(sorted(micro.PUBLISHED))


def save_arc(arc, path: str) -> None:
    """Writes arc.json atomically (temp file + rename)."""
    files.write_json_atomic(path, arc.to_json())


def load_arc(path_or_name: str):
    """Loads an arc.json path or a published name such as 'enas_micro_final'."""
    if path_or_name in micro.PUBLISHED:
        return micro.PUBLISHED[path_or_name]
    if not os.path.exists(path_or_name):
        raise micro.ArcError(
            f"arc {path_or_name!r} is neither a file nor a published architecture "
            f"({', '.join(published_names())})"
        )
    try:
        payload = files.read_json(path_or_name)
    except (OSError, json.JSONDecodeError) as error:
        raise micro.ArcError(f"{path_or_name}: not a readable arc.json ({error})") from error
    space = payload.get("space") if isinstance(payload, dict) else None
    if space not in _SPACES:
        raise micro.ArcError(f"{path_or_name}: unknown arc space {space!r}")
    return _SPACES[space].from_json(payload)

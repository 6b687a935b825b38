"""arc.json files and published architectures, for every search space.

An arc.json holds one architecture in its space's `to_json()` form; the `"space"` field says which
class reads it, so the pipeline can load whatever a search derived or a user wrote without
knowing the space. Wherever a path is accepted, so is a published name (`published_names()`), so
`--config.arc=enas_micro_final` retrains the paper's cell without a file.

Writes are atomic (temporary file in the same directory, then a rename over the target): an
interrupted run never leaves a truncated arc.json that a resumed run would then refuse or, worse,
half-read. Paths with a URL scheme (`gs://...`) go through `tf.io.gfile`, imported only then.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from enas_tf.errors import ArcError, ArcFileError
from enas_tf.spaces import macro, micro, rnn

SPACES: dict[str, Any] = {"micro": micro.MicroArc, "macro": macro.MacroArc, "rnn": rnn.RnnArc}
"""Architecture class per `"space"` value of arc.json."""

_PUBLISHED: dict[str, Any] = {**micro.PUBLISHED, **macro.PUBLISHED, **rnn.PUBLISHED}


def published_names() -> tuple[str, ...]:
    """Names accepted by `load_arc` instead of a path, sorted."""
    return tuple(sorted(_PUBLISHED))


def arc_from_json(data: Any) -> Any:
    """Builds the architecture a JSON object describes, dispatching on its `"space"` field.

    Raises:
      ArcError: not an object, unknown space, or invalid for its space.
    """
    if not isinstance(data, dict):
        raise ArcError(f"an arc is a JSON object, got {type(data).__name__}")
    space = data.get("space")
    if space not in SPACES:
        raise ArcError(f"space={space!r}: unknown search space (known: {', '.join(SPACES)})")
    return SPACES[space].from_json(data)


def load_arc(path_or_name: str, space: str | None = None) -> Any:
    """Returns the published arc of that name, or the arc stored in that arc.json.

    Published names are tried first: they never look like paths, and a name should not change
    meaning with the files in the current directory.

    Args:
      path_or_name: an arc.json path (local or `scheme://`) or a published name.
      space: if given, the arc must be of this space.

    Raises:
      ArcFileError: unknown name and no such file (the message lists the published names), a
        file that is not valid JSON or not a valid arc (the message names the path), or an arc
        of another space than `space`.
    """
    path_or_name = os.fspath(path_or_name)
    arc = _load_any(path_or_name)
    if space is not None and arc.space != space:
        raise ArcFileError(
            f"{path_or_name}: holds an arc of space {arc.space!r}, expected space {space!r}"
        )
    return arc


def _load_any(path_or_name: str) -> Any:
    if path_or_name in _PUBLISHED:
        return _PUBLISHED[path_or_name]
    if not _exists(path_or_name):
        raise ArcFileError(
            f"arc {path_or_name!r}: no such file, and not a published architecture name "
            f"(known names: {', '.join(published_names())})"
        )
    try:
        text = _read_text(path_or_name)
    except OSError as error:
        raise ArcFileError(f"{path_or_name}: cannot read arc file ({error})") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ArcFileError(f"{path_or_name}: not valid JSON ({error})") from error
    try:
        return arc_from_json(data)
    except ArcError as error:
        raise ArcFileError(f"{path_or_name}: {error}") from error


def save_arc(arc: Any, path: str) -> None:
    """Writes `arc.to_json()` to `path` atomically, creating the directory if needed.

    Args:
      arc: an architecture of any space (anything with `to_json()`).
      path: destination, usually `<workdir>/arc.json`; local or `scheme://` URL.
    """
    path = os.fspath(path)
    text = json.dumps(arc.to_json(), indent=2) + "\n"
    if _is_url(path):
        _save_url(text, path)
        return
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp_path = os.path.join(directory, f".tmp-{os.path.basename(path)}-{uuid.uuid4().hex}")
    try:
        with open(tmp_path, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)


def _is_url(path: str) -> bool:
    return "://" in path


def _exists(path: str) -> bool:
    if _is_url(path):
        import tensorflow as tf

        return tf.io.gfile.exists(path)
    return os.path.isfile(path)


def _read_text(path: str) -> str:
    if _is_url(path):
        import tensorflow as tf

        with tf.io.gfile.GFile(path, "r") as f:
            return f.read()
    with open(path) as f:
        return f.read()


def _save_url(text: str, path: str) -> None:
    """gfile version of the atomic write (object stores make the final rename a copy)."""
    import tensorflow as tf

    directory, name = path.rsplit("/", 1)
    tf.io.gfile.makedirs(directory)
    tmp_path = f"{directory}/.tmp-{name}-{uuid.uuid4().hex}"
    try:
        with tf.io.gfile.GFile(tmp_path, "w") as f:
            f.write(text)
        tf.io.gfile.rename(tmp_path, path, overwrite=True)
    finally:
        if tf.io.gfile.exists(tmp_path):
            tf.io.gfile.remove(tmp_path)

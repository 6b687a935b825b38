"""Versioned SavedModel directories in the TF Serving layout: `export_root/<version>/`.

What goes into a version (its signatures, extra files such as a vocabulary) is the task's
(`ImageTask.export`, `LmTask.export`); this module owns the layout every task shares: integer
versions that are never overwritten, written in a staging directory and renamed into place so
TF Serving never sees a half-written model, with the arc beside the model as `arc.json`.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from absl import logging

from enas_tf.spaces import arc_io


def latest_version(export_root: str) -> int:
    """The highest integer version directory under `export_root` (0 if none)."""
    if not os.path.isdir(export_root):
        return 0
    versions = [int(name) for name in os.listdir(export_root) if name.isdigit()]
    return max(versions, default=0)


def write_version(export_root: str, arc, write, version: int | None = None) -> str:
    """Writes `export_root/<version>/` atomically and returns its path.

    `write(staging_dir)` writes the SavedModel (and any extra files) into a temporary directory
    next to the target; `arc.json` is added and the directory is renamed into place, so an
    interrupted export never leaves a half-written version for TF Serving to load. Versions are
    never overwritten.
    """
    version = version or latest_version(export_root) + 1
    target = os.path.join(export_root, str(version))
    if os.path.exists(target):
        raise FileExistsError(f"{target} exists; export versions are never overwritten")
    os.makedirs(export_root, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=export_root)
    try:
        write(staging)
        arc_io.save_arc(arc, os.path.join(staging, "arc.json"))
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logging.info("export: SavedModel written to %s", target)
    return target

"""Versioned SavedModel directories in the TF Serving layout: `export_root/<version>/`.

What goes into a version (its signatures, extra files such as a vocabulary) is the task's
(`ImageTask.export`, `LmTask.export`); this module owns the layout every task shares: integer
versions that are never overwritten, written in a staging directory and renamed into place so
TF Serving never sees a half-written model, with the arc beside the model as `arc.json`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

from absl import logging

from enas_tf.runtime import files
from enas_tf.spaces import arc_io

# What `tempfile.mkdtemp(prefix=".tmp-<version>-")` names a staging directory; only these are
# removed as leftovers of a killed export.
_STAGING = re.compile(r"\.tmp-\d+-[A-Za-z0-9_]+")


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
    with files.reporting_storage_errors(export_root, "exporting the SavedModel"):
        os.makedirs(export_root, exist_ok=True)
        remove_staging_leftovers(export_root)
        staging = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=export_root)
        try:
            # mkdtemp's 0700 would stay with the version: TF Serving run as another user
            # could not read it.
            os.chmod(staging, files.default_mode(directory=True))
            write(staging)
            arc_io.save_arc(arc, os.path.join(staging, "arc.json"))
            os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    logging.info("export: SavedModel written to %s", target)
    return target


def remove_staging_leftovers(export_root: str) -> list[str]:
    """Removes the staging directories of exports that were killed; returns their names.

    A SIGKILL (or a preempted VM) mid-export gives the `except` in `write_version` no chance
    to run. The caller holds the workdir's lock, so no other export is staging here.
    """
    leftovers = sorted(
        name
        for name in os.listdir(export_root)
        if _STAGING.fullmatch(name) and os.path.isdir(os.path.join(export_root, name))
    )
    for name in leftovers:
        shutil.rmtree(os.path.join(export_root, name), ignore_errors=True)
    if leftovers:
        logging.info(
            "export: removed the staging directories of an interrupted export in %s: %s",
            export_root,
            ", ".join(leftovers),
        )
    return leftovers

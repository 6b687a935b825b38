"""Export a retrained fixed child as a SavedModel in the TF Serving layout.

`workdir/export/<version>/` holds a SavedModel whose `serving_default` signature takes raw pixel
values (float32 [None, H, W, 3], 0..255) and returns `probabilities` [None, classes] and
`classes` (int64 top class). Normalisation is inside the model, so a client sends pixels as they
are. The graph contains the fixed child only: no `Case` ops, no controller, no XLA functions.
The arc is written beside it as `arc.json`.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import keras
import tensorflow as tf
from absl import logging

from enas_tf.data import images as image_data
from enas_tf.spaces import arc_io


def make_serving_fn(child, mean, std):
    """The function the SavedModel serves: raw pixels -> class probabilities and top class."""

    def serve(images):
        logits, _ = child(image_data.standardize(images, mean, std), training=False)
        probabilities = tf.nn.softmax(logits, axis=-1)
        return {"probabilities": probabilities, "classes": tf.argmax(logits, axis=-1)}

    return serve


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


def export_child(
    child, arc, *, image_shape, mean, std, export_root: str, version: int | None = None
) -> str:
    """Exports an image child (see the module docstring) with `write_version`."""

    def write(staging):
        archive = keras.export.ExportArchive()
        archive.track(child)
        archive.add_endpoint(
            "serve",
            make_serving_fn(child, mean, std),
            input_signature=[tf.TensorSpec([None, *image_shape], tf.float32, name="images")],
        )
        archive.write_out(staging, verbose=False)

    return write_version(export_root, arc, write, version)

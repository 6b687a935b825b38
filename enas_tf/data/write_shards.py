"""Writes an image folder as TFRecord shards (a TFDS dataset) that a search streams.

    python -m enas_tf.data.write_shards --source=/data/photos --out=/data/tfds --name=photos
    python -m enas_tf.train --config=configs/image_folder.py:size=64 \
        --config.data.source=/data/tfds/photos/1.0.0

A folder of images is read into memory (`enas_tf.data.image_sources`); one larger than memory,
or one to be read from a bucket by many TPU hosts, is written once as shards: the files' own
bytes (nothing is re-encoded), their labels and the class names, in TFDS's format, so the
example counts and class names are metadata and each input pipeline of a search reads its own
range of shards (`enas_tf.data.image_stream`). The folder layout and the rule for unreadable
files are the search's (README, "Search on your own data"): every file is decoded once to
check it, in bounded memory, and nothing is written if the rule stops the conversion.
`train/`, `valid/` and `test/` folders become TFDS splits of those names; a folder of class
folders becomes `train` alone (the search carves validation and test from it). Images may
differ in size: the search resizes them (`data.image_size` is then required).
"""

from __future__ import annotations

import os
import sys

from absl import app, flags, logging

from enas_tf.data import image_folder
from enas_tf.errors import DataError

_SOURCE = flags.DEFINE_string("source", None, "image folder (class subfolders, or train/ ...)")
_OUT = flags.DEFINE_string("out", None, "TFDS data directory to write into")
_NAME = flags.DEFINE_string("name", None, "dataset name (letters, digits, underscores)")
_CHANNELS = flags.DEFINE_integer("channels", 3, "channels the metadata declares: 1, 3 or 4")
_SHARDS = flags.DEFINE_integer("num_shards", 0, "shards per split (0 = TFDS decides by size)")


def write_shards(source: str, out: str, name: str, *, channels: int = 3, num_shards: int = 0):
    """Converts the folder `source` into the TFDS dataset `out/name/1.0.0`; returns its path.

    Raises:
      DataError: the folder is not a dataset (named), the output exists, or the name is bad.
    """
    import tensorflow_datasets as tfds

    if not name or not name.replace("_", "").isalnum() or not name[0].isalpha():
        raise DataError(f"--name={name!r}: use letters, digits and underscores, first a letter")
    if channels not in (1, 3, 4):
        raise DataError(f"--channels={channels}: must be 1, 3 or 4")
    target = os.path.join(out, name, "1.0.0")
    if os.path.exists(target):
        raise DataError(f"{target} exists: choose another --name or --out, or delete it")
    dirs = image_folder.split_directories(source, train="train", valid="", test="test")
    train = image_folder.list_images(dirs["train"])
    splits = {"train": image_folder.readable(train, f"training folder {dirs['train']}")}
    for split in ("valid", "test"):
        if dirs[split] is not None:
            listing = image_folder.list_images(dirs[split], train.class_names)
            splits[split] = image_folder.readable(listing, f"{split} folder {dirs[split]}")
    features = tfds.features.FeaturesDict(
        {
            "image": tfds.features.Image(shape=(None, None, channels)),
            "label": tfds.features.ClassLabel(names=list(train.class_names)),
        }
    )
    examples = {
        split: [
            (index, {"image": path, "label": int(label)})
            for index, (path, label) in enumerate(zip(listing.paths, listing.labels, strict=True))
        ]
        for split, listing in splits.items()
    }
    download_config = tfds.download.DownloadConfig(num_shards=num_shards or None)
    builder = tfds.dataset_builders.store_as_tfds_dataset(
        name=name,
        version="1.0.0",
        features=features,
        split_datasets=examples,
        data_dir=out,
        description=f"Image folder {source}, written by enas_tf.data.write_shards.",
        download_config=download_config,
    )
    counts = ", ".join(f"{split} {len(listing.paths)}" for split, listing in splits.items())
    logging.info("write_shards: %s (%s examples)", builder.data_dir, counts)
    return str(builder.data_dir)


def main(argv) -> int:
    del argv
    try:
        path = write_shards(
            _SOURCE.value,
            _OUT.value,
            _NAME.value,
            channels=_CHANNELS.value,
            num_shards=_SHARDS.value,
        )
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {path}; search it with --config.data.source={path}")
    return 0


if __name__ == "__main__":
    flags.mark_flags_as_required(["source", "out", "name"])
    app.run(main)

"""Writes the embedded dataset as an image folder, to try `configs/image_folder.py` anywhere.

    python -m enas_tf.data.example_folder /tmp/shapes
    python -m enas_tf.train --config=configs/image_folder.py:path=/tmp/shapes,size=16

The folder has the layout users bring (README, "Search on your own data"): `train/` and
`test/`, each with one subfolder per class (`checkerboard/`, `cross/`, ...) of PNG files, so
the commands of the README can be run on a fresh clone without downloading anything. The
images are `enas_tf.data.embedded`'s (10 classes at three spatial scales; 3,000 train and 500
test at 16x16 by default, as in the quickstart).
"""

from __future__ import annotations

import os
import sys

from absl import app, flags

_TRAIN = flags.DEFINE_integer("num_train", 3000, "training images")
_TEST = flags.DEFINE_integer("num_test", 500, "test images")
_SIZE = flags.DEFINE_integer("image_size", 16, "image height and width")


def write_example_folder(root: str, num_train: int, num_test: int, image_size: int) -> str:
    """Writes `root/train/<class>/*.png` and `root/test/<class>/*.png`; returns `root`."""
    import tensorflow as tf

    from enas_tf.data import embedded

    train_x, train_y, test_x, test_y, names = embedded.make_embedded_dataset(
        num_train, num_test, image_size, seed=0
    )
    for split, images, labels in (("train", train_x, train_y), ("test", test_x, test_y)):
        for index, (image, label) in enumerate(zip(images, labels, strict=True)):
            directory = os.path.join(root, split, names[label])
            os.makedirs(directory, exist_ok=True)
            with open(os.path.join(directory, f"{index:05d}.png"), "wb") as f:
                f.write(tf.io.encode_png(image).numpy())
    return root


def main(argv) -> int:
    if len(argv) != 2:
        print("usage: python -m enas_tf.data.example_folder DIRECTORY", file=sys.stderr)
        return 2
    if os.path.exists(argv[1]) and os.listdir(argv[1]):
        print(f"error: {argv[1]} exists and is not empty; name a new directory", file=sys.stderr)
        return 1
    root = write_example_folder(argv[1], _TRAIN.value, _TEST.value, _SIZE.value)
    print(f"wrote {_TRAIN.value} train and {_TEST.value} test images to {root}")
    return 0


if __name__ == "__main__":
    app.run(main)

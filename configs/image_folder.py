"""Search on your own image folder: one subfolder per class, as Keras reads it.

Commands:

    python -m enas_tf.train --config=configs/image_folder.py:path=/data/pets --workdir=runs/pets
    python -m enas_tf.train --config=configs/image_folder.py:path=/data/xray,size=64 \
        --config.data.color_mode=grayscale
    # no folder at hand: the embedded images as one (10 classes, 16x16 PNGs)
    python -m enas_tf.data.example_folder /tmp/shapes
    python -m enas_tf.train --config=configs/image_folder.py:path=/tmp/shapes,size=16

The folder is `path/<class>/*.jpg|png|bmp|gif` (validation and test carved from it, 10% each,
stratified, seeded) or `path/train/<class>/...` with optional `valid/` (`validation/`, `val/`)
and `test/` beside it. Class names are the subfolder names, sorted; they travel into the
export, whose `serve_image_bytes` signature takes JPEG/PNG files (README, "Search on your own
data" and "Serving").

Arguments: `path` (the folder; or --config.data.source=...), `size` (the search and retrain
resolution, default 32: every image is resized to it, keeping its aspect ratio by cropping the
centre; `--config.data.resize_mode=stretch|pad` otherwise), `space` (micro, default, or macro).

Measured on the example folder (`size=16`, 2 cores shared with another job): 28m35s, the
search 11m32s (last check ahead of random by 9.0 SE: learned), test accuracy 1.000
(BUILD_NOTES, "Users' own data").

The search is the quickstart's, whose settings learned on the embedded images on 2 CPU cores
(BUILD_NOTES, "Session 10"): 2-node cells, 3 cells x 8 filters, 30 epochs, a warm-up of 9
epochs of uniform arcs, a group baseline and the in-run check against random arcs every 10
epochs. Scale the child network and epochs with your data and hardware
(--config.search.model.filters, --config.search.epochs, --config.search.optimizer.t0); the
paper's CIFAR-10 settings are configs/cifar10_micro.py. The retraining is larger (6 cells x
20 filters, 30 epochs, CutOut) and is usually what a user tunes next. Then
`--mode=audit` on the same workdir says whether the search beat random cells on this data.
"""

from configs import quickstart
from enas_tf import config as config_lib


def get_config(arg=None):
    args = config_lib.parse_arg(arg, path="", size=32, space="micro")
    if args.space not in ("micro", "macro"):
        raise config_lib.ConfigError(
            f"space={args.space!r}: an image folder is searched with micro or macro"
        )
    c = quickstart.get_config()
    c.unlock()
    if args.space == "macro":
        macro = config_lib.macro_base_config()
        macro.update(dict(data=c.data, seed=c.seed))
        c = macro
        c.search.model.num_layers = 6
        c.search.model.filters = 16
        c.search.epochs = 30
        c.search.optimizer.t0 = 30
    c.data.source = args.path
    c.data.image_size = str(args.size)
    c.data.resize_mode = "crop"
    c.data.valid_fraction = 0.1
    c.data.test_fraction = 0.1  # only if the folder has no test/ folder
    c.retrain.model.num_layers = 6
    c.retrain.model.filters = 20
    c.retrain.epochs = 30
    c.retrain.optimizer.t0 = 30
    c.retrain.cutout_size = max(2, args.size // 4)
    c.lock()
    return c

"""Benchmark: peak resident memory of a search at 1x and 8x the data, streamed and in memory.

Writes a TFDS dataset of `--images` RGB 32x32 PNG images (3 classes) and one 8 times larger
(TFRecord shards, as a user's `tfds build` or `store_as_tfds_dataset` would), then runs the
same search on each in a fresh process, with `data.streaming=on` and `off`: the tiny micro
config at 32x32, the same number of child steps whatever the data size
(`Search.run(max_child_steps=...)`), so only the data differs. Prints one row per run: the
process's peak resident memory (`ru_maxrss`) and the seconds it took. Streaming holds a bounded
shuffle buffer of encoded examples and a few decoded batches, so its peak should not grow
with the data; the in-memory path holds every decoded image.

Usage:
    python bench/stream_memory.py                       # 5,000 and 40,000 images, 60 steps
    python bench/stream_memory.py --images=2000 --steps=30 --repeats=3

Not a test: numbers depend on the machine. Record them in BUILD_NOTES.md with the command.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app, flags  # noqa: E402

_IMAGES = flags.DEFINE_integer("images", 5000, "training images at 1x (8x is 8 times more)")
_STEPS = flags.DEFINE_integer("steps", 60, "child steps of every search")
_REPEATS = flags.DEFINE_integer("repeats", 1, "runs of each setting (the peak varies by run)")
_RUN = flags.DEFINE_string("run", "", "internal: run one search on this dataset directory")
_STREAMING = flags.DEFINE_string("streaming", "on", "internal: data.streaming of that search")


def write_dataset(data_dir: str, count: int, name: str) -> str:
    """A TFDS dataset of `count` train and count/10 test images; returns its directory."""
    import numpy as np
    import tensorflow as tf
    import tensorflow_datasets as tfds

    rng = np.random.default_rng(0)

    def examples(n):
        for start in range(0, n, 1000):
            labels = np.arange(start, min(n, start + 1000)) % 3
            pixels = rng.integers(0, 256, (len(labels), 32, 32, 3), dtype=np.uint8)
            for image, label in zip(pixels, labels, strict=True):
                yield {"image": image, "label": int(label)}

    def split(n):
        spec = {
            "image": tf.TensorSpec([32, 32, 3], tf.uint8),
            "label": tf.TensorSpec([], tf.int64),
        }
        return tf.data.Dataset.from_generator(lambda: examples(n), output_signature=spec)

    features = tfds.features.FeaturesDict(
        {
            "image": tfds.features.Image(shape=(32, 32, 3)),
            "label": tfds.features.ClassLabel(names=["a", "b", "c"]),
        }
    )
    builder = tfds.dataset_builders.store_as_tfds_dataset(
        name=name,
        version="1.0.0",
        features=features,
        split_datasets={"train": split(count), "test": split(count // 10)},
        data_dir=data_dir,
        description="bench/stream_memory.py",
        download_config=tfds.download.DownloadConfig(num_shards=16),
    )
    return str(builder.data_dir)


def run_search(source: str, streaming: str, steps: int) -> None:
    """One search of `steps` child steps in this process (the child of `main`)."""
    import tensorflow as tf

    from configs import tiny
    from enas_tf import search as search_lib
    from enas_tf.tasks.image import ImageTask

    config = tiny.get_config("space=micro")
    config.data.source = source
    config.data.streaming = streaming
    config.data.num_valid = 500
    config.search.batch_size = 32
    with tempfile.TemporaryDirectory() as workdir:
        task = ImageTask.load(config)
        search = search_lib.Search(
            config, workdir, tf.distribute.get_strategy(), task, jit_compile=False
        )
        search.run(max_child_steps=steps)


def main(argv):
    del argv
    if _RUN.value:
        run_search(_RUN.value, _STREAMING.value, _STEPS.value)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"PEAK_MB {peak:.0f}")
        return
    with tempfile.TemporaryDirectory() as data_dir:
        sources = {}
        for scale in (1, 8):
            started = time.perf_counter()
            sources[scale] = write_dataset(data_dir, _IMAGES.value * scale, f"bench_x{scale}")
            print(f"wrote {_IMAGES.value * scale} images in {time.perf_counter() - started:.0f} s")
        print(f"{'data':>8} {'streaming':>9} {'peak RSS MB':>12} {'seconds':>8}")
        settings = [(s, x) for _ in range(_REPEATS.value) for s in ("on", "off") for x in (1, 8)]
        for streaming, scale in settings:
            started = time.perf_counter()
            result = subprocess.run(
                [
                    sys.executable,
                    os.path.abspath(__file__),
                    f"--run={sources[scale]}",
                    f"--streaming={streaming}",
                    f"--steps={_STEPS.value}",
                ],
                capture_output=True,
                text=True,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            )
            lines = [x for x in result.stdout.splitlines() if x.startswith("PEAK_MB")]
            peak = lines[-1].split()[1] if lines else "failed: " + result.stderr[-300:]
            seconds = time.perf_counter() - started
            print(f"{_IMAGES.value * scale:>8} {streaming:>9} {peak:>12} {seconds:>8.0f}")


if __name__ == "__main__":
    app.run(main)

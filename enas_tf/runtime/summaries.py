"""TensorBoard event files (`workdir/train`, `workdir/valid`, ...) written from eager code only."""

from __future__ import annotations

import contextlib
import math
import os

import tensorflow as tf
from tensorflow.core.util import event_pb2

from enas_tf.runtime import files


def _float32(value: float) -> float:
    """`value`, or +-inf beyond float32's range (a diverged model's perplexity, e.g. 8e118).

    TensorBoard stores scalars as float32 and refuses such a value with an error; an audit of
    an arc that diverged in retraining stopped on it instead of ranking the arc last.
    """
    return math.copysign(math.inf, value) if abs(value) > tf.float32.max else value


class Writers:
    """One summary writer per subdirectory of the workdir, created on first use."""

    def __init__(self, workdir: str, enabled: bool = True):
        self.workdir, self.enabled = workdir, enabled
        self._writers: dict[str, tf.summary.SummaryWriter] = {}

    def _writer(self, name: str):
        if name not in self._writers:
            self._writers[name] = tf.summary.create_file_writer(os.path.join(self.workdir, name))
        return self._writers[name]

    def scalars(self, name: str, step: int, values: dict) -> None:
        if not self.enabled:
            return
        with self.as_default(name, step):
            for key, value in values.items():
                tf.summary.scalar(key, _float32(float(value)))

    def text(self, name: str, step: int, tag: str, value: str) -> None:
        if not self.enabled:
            return
        with self.as_default(name, step):
            tf.summary.text(tag, value)

    @contextlib.contextmanager
    def as_default(self, name: str, step: int):
        """Context for other `tf.summary` calls (images, histograms) into `workdir/name`.

        The writer flushes when the context ends; a full disk then is one line naming the
        directory (`files.reporting_storage_errors`).
        """
        directory = os.path.join(self.workdir, name)
        with files.reporting_storage_errors(directory, "writing TensorBoard events"):
            with self._writer(name).as_default(step=step):
                yield

    def flush(self) -> None:
        for name, writer in self._writers.items():
            directory = os.path.join(self.workdir, name)
            with files.reporting_storage_errors(directory, "writing TensorBoard events"):
                writer.flush()

    def close(self) -> None:
        """Flushes and closes every writer (their event files are complete on disk)."""
        self.flush()
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def written_tags(directory: str) -> set[str]:
    """Every tag the event files in `directory` hold a summary of (reads every event).

    Read as TFRecords (`tf.compat.v1.train.summary_iterator` would print a deprecation
    warning into the user's log).
    """
    tags = set()
    for path in tf.io.gfile.glob(os.path.join(directory, "events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(path):
            event = event_pb2.Event.FromString(record.numpy())
            tags.update(value.tag for value in event.summary.value)
    return tags


def has_tag(directory: str, tag: str) -> bool:
    """Whether an event file in `directory` holds a summary under `tag` (reads every event)."""
    return tag in written_tags(directory)


def format_seconds(seconds: float) -> str:
    """`1h02m03s`-style duration for progress lines; '?' when unknown."""
    if seconds is None or math.isnan(seconds) or math.isinf(seconds):
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"

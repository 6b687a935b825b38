"""TensorBoard event files (`workdir/train`, `workdir/valid`, ...) written from eager code only."""

from __future__ import annotations

import math
import os

import tensorflow as tf


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
        with self._writer(name).as_default(step=step):
            for key, value in values.items():
                tf.summary.scalar(key, float(value))

    def text(self, name: str, step: int, tag: str, value: str) -> None:
        if not self.enabled:
            return
        with self._writer(name).as_default(step=step):
            tf.summary.text(tag, value)

    def as_default(self, name: str, step: int):
        """Context for other `tf.summary` calls (images, histograms) into `workdir/name`."""
        return self._writer(name).as_default(step=step)

    def flush(self) -> None:
        for writer in self._writers.values():
            writer.flush()


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

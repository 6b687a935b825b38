"""Tests of the TensorBoard writers (enas_tf.runtime.summaries)."""

import glob
import math
import os

import tensorflow as tf

from enas_tf.runtime import summaries


def _scalars(event_dir):
    values = {}
    for path in glob.glob(os.path.join(event_dir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                values[value.tag] = float(tf.make_ndarray(value.tensor))
    return values


def test_scalars_beyond_float32_are_written_as_infinities(tmp_path):
    # A language model that diverged in an audit's retraining scored perplexity 8.3e118:
    # TensorBoard (float32) refused it with an error and the audit stopped.
    writers = summaries.Writers(str(tmp_path))
    values = {"perplexity": 8.3e118, "negative": -1e300, "nan": math.nan, "plain": 1.5}
    writers.scalars("valid", 3, values)
    writers.flush()
    written = _scalars(str(tmp_path / "valid"))
    assert written["perplexity"] == math.inf
    assert written["negative"] == -math.inf
    assert math.isnan(written["nan"])
    assert written["plain"] == 1.5

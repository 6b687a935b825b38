"""Tests for enas_tf.runtime.console: the CLI's log shows the pipeline's own lines."""

import logging as std_logging
import os

import pytest
from absl import logging

from enas_tf.runtime import console


def _record(path: str, level: int = std_logging.INFO, message: str = "m"):
    return std_logging.LogRecord("absl", level, path, 1, message, None, None)


@pytest.fixture
def configured():
    """The absl handler as the CLI configures it; restored afterwards."""
    handler = logging.get_absl_handler()
    formatter, filters = handler.formatter, list(handler.filters)
    level = std_logging.getLogger("tensorflow").level
    verbosity = logging.get_verbosity()
    yield handler
    handler.setFormatter(formatter)
    handler.filters[:] = filters
    std_logging.getLogger("tensorflow").setLevel(level)
    logging.set_verbosity(verbosity)


def test_the_default_log_passes_the_package_lines_and_anybodys_warnings(configured):
    console.configure(verbose=False)
    console.configure(verbose=False)  # twice in one process: still one filter
    package = os.path.dirname(os.path.dirname(os.path.abspath(console.__file__)))
    ours = _record(os.path.join(package, "search", "run.py"))
    saver = _record("/site-packages/tensorflow/python/checkpoint/functional_saver.py")
    warning = _record("/site-packages/tensorflow_datasets/core/x.py", std_logging.WARNING)
    assert configured.filter(ours)
    assert not configured.filter(saver)
    assert configured.filter(warning)
    assert std_logging.getLogger("tensorflow").level == std_logging.WARNING
    assert len([f for f in configured.filters if isinstance(f, console._OwnLinesOnly)]) == 1
    line = configured.format(_record(ours.pathname, message="search epoch 1/2: ..."))
    assert line.endswith(" search epoch 1/2: ...") and line[2] == ":" and line[5] == ":"
    assert " WARNING: " in configured.format(warning)


def test_verbose_shows_everything_with_absl_prefixes(configured):
    console.configure(verbose=False)
    console.configure(verbose=True)
    saver = _record("/site-packages/tensorflow/python/checkpoint/functional_saver.py")
    assert configured.filter(saver)
    assert logging.get_verbosity() == logging.DEBUG
    assert configured.format(saver).startswith("I")  # absl's `I1207 15:44:59.0 ...` prefix


def test_step_lines_are_debug_until_a_minute_has_passed(monkeypatch):
    levels = []
    monkeypatch.setattr(logging, "info", lambda *a: levels.append("info"))
    monkeypatch.setattr(logging, "debug", lambda *a: levels.append("debug"))
    clock = [100.0]
    monkeypatch.setattr(console.time, "monotonic", lambda: clock[0])
    lines = console.StepLines(seconds=60.0)
    lines.log("step %d", 1)
    clock[0] += 61.0
    lines.log("step %d", 2)
    clock[0] += 30.0
    lines.log("step %d", 3)
    lines.seen()  # an epoch line
    clock[0] += 59.0
    lines.log("step %d", 4)
    assert levels == ["debug", "info", "debug", "debug"]

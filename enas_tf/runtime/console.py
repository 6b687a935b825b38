"""The progress log a user watches: the pipeline's own lines, short, one or two per epoch.

At the default verbosity the CLI shows only lines logged from `enas_tf` (INFO and up) and
anybody's warnings, as `HH:MM:SS message`; the INFO lines of TensorFlow's Python code
(`functional_saver.py ... Sharding callback duration`, `signature_serialization.py ...
unsupported characters`) and of other libraries (TFDS) are dropped. `--verbose` keeps absl's
full prefixes, every library's INFO lines and the per-`log_every_steps` step lines, which
are DEBUG otherwise (`progress`): an epoch then reads as one line, plus one for a check.
"""

from __future__ import annotations

import logging as std_logging
import os
import time

from absl import logging

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_STEP_LINE_SECONDS = 60.0  # a step line at least this often when an epoch is long


class _OwnLinesOnly(std_logging.Filter):
    """Passes warnings and errors, and INFO lines only from the enas_tf package."""

    def filter(self, record: std_logging.LogRecord) -> bool:
        if record.levelno >= std_logging.WARNING:
            return True
        return record.levelno >= std_logging.INFO and os.path.abspath(record.pathname).startswith(
            _PACKAGE + os.sep
        )


class _ShortFormatter(std_logging.Formatter):
    """`15:44:59 message`; warnings and errors say so (`15:44:59 WARNING: message`)."""

    def format(self, record: std_logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        message = record.getMessage()
        if record.levelno >= std_logging.WARNING:
            return f"{stamp} {record.levelname}: {message}"
        return f"{stamp} {message}"


def configure(verbose: bool) -> None:
    """Sets up the CLI's log: short and the pipeline's own lines, or everything (`verbose`)."""
    handler = logging.get_absl_handler()
    for old in [f for f in handler.filters if isinstance(f, _OwnLinesOnly)]:
        handler.removeFilter(old)  # configured before, in this process
    if verbose:
        logging.set_verbosity(logging.DEBUG)
        handler.setFormatter(logging.PythonFormatter())
        return
    logging.set_verbosity(logging.INFO)
    handler.setFormatter(_ShortFormatter())
    handler.addFilter(_OwnLinesOnly())
    # TensorFlow's Python logger writes through the same handler; stop its INFO records early.
    std_logging.getLogger("tensorflow").setLevel(std_logging.WARNING)


class StepLines:
    """When a phase's step line is shown at the default verbosity.

    Step lines come every `log_every_steps` as DEBUG (shown with `--verbose`); one is
    promoted to INFO when a minute has passed since the last line a user saw, so a long
    epoch still shows that it is moving.
    """

    def __init__(self, seconds: float = _STEP_LINE_SECONDS):
        self.seconds = seconds
        self.last = time.monotonic()

    def seen(self) -> None:
        """A line the user sees was just logged (an epoch line, a check)."""
        self.last = time.monotonic()

    def log(self, message: str, *args) -> None:
        """Logs a step line: INFO if a minute has passed since the last seen line, else DEBUG."""
        if time.monotonic() - self.last >= self.seconds:
            logging.info(message, *args)
            self.seen()
        else:
            logging.debug(message, *args)

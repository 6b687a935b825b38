"""Ctrl-C and preemption: stop at the next step boundary with a checkpoint, then exit cleanly.

A preempted Cloud TPU VM or GPU instance gets SIGTERM shortly before it goes away; a user
presses Ctrl-C (SIGINT). Either way the steps since the last checkpoint should not be lost,
and the run should end with one line saying how to resume, not a traceback. `install` (the
CLI calls it) replaces both handlers with one that only records the signal; every training
phase (`enas_tf.training.phase_loop.PhaseLoop`) asks `requested` between two calls of its
compiled steps, saves a checkpoint and raises `Interrupted`, which the CLI turns into that
line. A second Ctrl-C stops at once (`KeyboardInterrupt`), keeping the last checkpoint.
A phase without steps (the export) runs inside `without_steps`: it finishes, then stops the
run the same way.

Every worker must stop at the same step boundary, since saving is a collective under
MultiWorkerMirroredStrategy: `requested(strategy)` sums every worker's flag there (one
compiled scalar all-reduce per call of the steps); single-client strategies (one process,
MirroredStrategy, TPUStrategy) read the flag directly.

Why not `tf.distribute.experimental.PreemptionCheckpointHandler`: it saves through its own
`tf.train.CheckpointManager` with its own numbering and state, beside the keyed, step-numbered
checkpoints the phases already write and resume from, handles SIGTERM but not Ctrl-C, and
ends the process itself. Checking a flag at the boundaries the phases already have gives the
same guarantee (no step lost, all workers agree) with one checkpoint layout.
"""

from __future__ import annotations

import contextlib
import signal
from typing import Optional

from absl import logging

_SIGNALS = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}
_received: Optional[int] = None
_stepless: Optional[str] = None  # the phase without step boundaries now running, if any
_waiting: Optional[str] = None  # what a wait that stops at once on a signal waits for
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + signal number, as shells do


class Interrupted(Exception):
    """A phase stopped at a step boundary after a signal, with a checkpoint saved.

    Attributes:
      where: the phase and step it stopped at, e.g. "search (epoch 2) child step 120".
      signum: the signal received.
    """

    def __init__(self, where: str, signum: int):
        super().__init__(f"interrupted at {where}; rerun the same command to resume")
        self.where, self.signum = where, signum

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.signum, 1)


def _handler(signum, frame) -> None:
    global _received
    del frame
    if _received is not None and signum == signal.SIGINT:
        raise KeyboardInterrupt  # the second Ctrl-C: stop now
    if _received is None:
        _received = signum
        if _waiting is not None:
            what = f"stopping the wait for {_waiting}"
        elif _stepless is not None:
            what = (
                f"{_stepless} has no step boundary to stop at: it finishes, then the run "
                "stops (a rerun continues after it)"
            )
        else:
            what = "saving a checkpoint at the next step boundary"
        logging.warning(
            "received %s: %s%s",
            _SIGNALS.get(signum, signum),
            what,
            " (Ctrl-C again to stop at once)" if signum == signal.SIGINT else "",
        )


@contextlib.contextmanager
def without_steps(phase: str):
    """Runs a phase that has no step boundary (an export): a signal lets it finish, then stops.

    Such a phase cannot save and stop half-way, so the signal's line says it finishes first,
    and once it has, `Interrupted` ends the run as a phase with steps would (exit 130 / 143),
    rather than the run going on or ending with status 0 as if no one had asked it to stop.
    A second Ctrl-C still stops at once; the phase's own cleanup (an export's staging
    directory) runs then.

    Args:
      phase: what runs, for the lines, e.g. "export".

    Raises:
      Interrupted: a signal arrived before or during the phase.
    """
    global _stepless
    _stepless = phase
    try:
        yield
    finally:
        _stepless = None
    if _received is not None:
        raise Interrupted(f"the end of {phase}", _received)


@contextlib.contextmanager
def waiting_for(what: str):
    """Marks a wait that polls `received` and stops at once, so a signal's line says so.

    Args:
      what: what is awaited, e.g. "the cluster's other tasks".
    """
    global _waiting
    _waiting = what
    try:
        yield
    finally:
        _waiting = None


_installed = False


def install() -> None:
    """Records SIGINT and SIGTERM instead of acting on them (main thread only)."""
    global _installed
    for signum in _SIGNALS:
        signal.signal(signum, _handler)
    _installed = True


def reinstall() -> None:
    """Takes the handlers back if `install` ran (call after creating a strategy).

    A MultiWorkerMirroredStrategy starts TensorFlow's coordination service, whose preemption
    notifier installs its own SIGTERM handler (for `PreemptionCheckpointHandler`), silently
    replacing ours: without this a preempted worker would neither save nor stop.
    """
    if _installed:
        install()


def reset() -> None:
    """Forgets a received signal (tests)."""
    global _received
    _received = None


def received() -> Optional[int]:
    """The signal this process received, if any."""
    return _received


def requested(strategy=None) -> Optional[int]:
    """The signal to stop for, agreed by every worker of `strategy`, or None.

    Args:
      strategy: the run's `tf.distribute` strategy; under MultiWorkerMirroredStrategy every
        worker must call this at the same point (it is a collective).
    """
    if strategy is None:
        return _received
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return _received
    agreed = _agreement(strategy)(tf.constant(1 if _received else 0, tf.int32))
    if int(agreed.numpy()) == 0:
        return None
    return _received or signal.SIGTERM  # another worker was told to stop


_AGREEMENTS: dict = {}


def _agreement(strategy):
    """A compiled all-reduce (sum) of one int32 flag over `strategy`'s workers, built once."""
    import tensorflow as tf

    key = id(strategy)
    if key not in _AGREEMENTS:

        @tf.function
        def agree(flag):
            per_replica = strategy.run(lambda: tf.identity(flag))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

        _AGREEMENTS[key] = agree
    return _AGREEMENTS[key]

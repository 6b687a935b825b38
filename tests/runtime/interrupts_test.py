"""Tests for enas_tf.runtime.interrupts: signals recorded, not acted on; exit codes."""

import os
import signal

import pytest

from enas_tf.runtime import interrupts


@pytest.fixture
def installed():
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    interrupts.reset()
    interrupts.install()
    yield
    interrupts.reset()
    for signum, handler in before.items():
        signal.signal(signum, handler)


def test_sigterm_is_recorded_and_the_process_goes_on(installed):
    assert interrupts.requested() is None
    os.kill(os.getpid(), signal.SIGTERM)
    assert interrupts.received() == signal.SIGTERM
    assert interrupts.requested() == signal.SIGTERM
    os.kill(os.getpid(), signal.SIGTERM)  # a second SIGTERM changes nothing
    assert interrupts.received() == signal.SIGTERM


def test_a_second_ctrl_c_stops_at_once(installed):
    os.kill(os.getpid(), signal.SIGINT)
    assert interrupts.received() == signal.SIGINT  # the first one only asks
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)


def test_single_client_strategies_read_the_local_flag(installed):
    import tensorflow as tf

    assert interrupts.requested(tf.distribute.get_strategy()) is None
    os.kill(os.getpid(), signal.SIGINT)
    assert interrupts.requested(tf.distribute.get_strategy()) == signal.SIGINT


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_exit_codes_follow_the_shell_convention(signum, code):
    stop = interrupts.Interrupted("search epoch 2 child step 7", signum)
    assert stop.exit_code == code
    assert str(stop) == (
        "interrupted at search epoch 2 child step 7; rerun the same command to resume"
    )


def test_a_signal_during_a_phase_without_steps_lets_it_finish_then_stops(installed, caplog):
    finished = []
    with pytest.raises(interrupts.Interrupted) as info:
        with interrupts.without_steps("export"):
            os.kill(os.getpid(), signal.SIGTERM)
            finished.append(True)  # the phase goes on to its end
    assert finished == [True]
    assert "export has no step boundary to stop at: it finishes, then the run stops" in caplog.text
    assert "next step boundary" not in caplog.text
    assert info.value.exit_code == 143  # as a phase with steps ends
    assert str(info.value) == "interrupted at the end of export; rerun the same command to resume"


def test_a_phase_without_steps_and_no_signal_ends_normally(installed):
    with interrupts.without_steps("export"):
        pass
    assert interrupts.received() is None

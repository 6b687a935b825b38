"""Tests of the eager outer loop shared by the search's phases and retraining."""

import signal
import types

import pytest

from enas_tf.runtime import interrupts
from enas_tf.training.phase_loop import PhaseLoop, RunningMeans, checkpoint_due, train_chunk


def _config(steps_per_loop, log_every_steps, checkpoint_every_steps=0):
    return types.SimpleNamespace(
        steps_per_loop=steps_per_loop,
        log_every_steps=log_every_steps,
        checkpoint_every_steps=checkpoint_every_steps,
    )


@pytest.mark.parametrize(
    "config, done, total, expected",
    [
        (_config(50, 20), 0, 100, 20),  # cut at the next log point
        (_config(50, 20), 15, 100, 5),
        (_config(8, 20, 6), 0, 100, 6),  # cut at the next checkpoint point
        (_config(8, 20, 6), 6, 100, 6),
        (_config(50, 40), 90, 95, 5),  # cut at the phase end
        (_config(1, 20), 3, 100, 1),
    ],
)
def test_train_chunk_stops_at_every_boundary(config, done, total, expected):
    assert train_chunk(config, done, total) == expected


def test_checkpoint_due_is_mid_phase_only():
    config = _config(10, 10, 4)
    assert [d for d in range(1, 13) if checkpoint_due(config, d, 12)] == [4, 8]
    assert not any(checkpoint_due(_config(10, 10, 0), d, 12) for d in range(1, 13))


def test_running_means_weigh_calls_by_their_steps():
    means = RunningMeans()
    means.add({"loss": 1.0}, 3)
    means.add({"loss": 3.0}, 1)
    assert means.steps == 4
    assert means.pop() == {"loss": 1.5}
    assert means.pop() == {} and means.steps == 0


class _Recorder:
    """A fake phase: its step i (0-based) has loss i; it records every call and save."""

    def __init__(self, start=0):
        self.taken, self.chunks, self.saves, self.logs, self.calls = start, [], [], [], []

    def train(self, chunk):
        first = self.taken
        self.taken += chunk
        self.chunks.append(chunk)
        return {"loss": sum(range(first, self.taken)) / chunk}

    def save(self):
        self.saves.append(self.taken)

    def log(self, means, steps, done):
        self.logs.append((done, steps, means["loss"]))

    def on_call(self, values, steps, done):
        self.calls.append((done, steps))


def test_a_phase_runs_in_chunks_logs_means_and_checkpoints_mid_phase():
    fake = _Recorder()
    loop = PhaseLoop(
        _config(steps_per_loop=3, log_every_steps=5, checkpoint_every_steps=4), 10, fake.save
    )
    done = loop.run(0, fake.train, on_log=fake.log, on_call=fake.on_call)
    assert done == 10 and fake.taken == 10
    assert fake.chunks == [3, 1, 1, 3, 2]  # boundaries at 3 (loop), 4 (ckpt), 5 (log), 8, 10
    assert fake.saves == [4, 8]  # not at the end: the caller saves with the phase marked over
    # Log lines at 5 and 10, each the mean of the steps since the previous one.
    assert fake.logs == [(5, 5, 2.0), (10, 5, 7.0)]
    assert fake.calls == [(3, 3), (4, 1), (5, 1), (8, 3), (10, 2)]


def test_a_resumed_phase_keeps_the_uninterrupted_run_boundaries():
    config = _config(steps_per_loop=3, log_every_steps=5, checkpoint_every_steps=4)
    whole, resumed = _Recorder(), _Recorder(start=4)
    PhaseLoop(config, 10, whole.save).run(0, whole.train, on_log=whole.log)
    PhaseLoop(config, 10, resumed.save).run(4, resumed.train, on_log=resumed.log)
    assert resumed.chunks == whole.chunks[2:]
    assert resumed.saves == [8]
    # The first line after a resume covers the steps run since it (step 4 only).
    assert resumed.logs == [(5, 1, 4.0), (10, 5, 7.0)]


def test_max_steps_stops_mid_phase_and_reports_where():
    fake = _Recorder()
    loop = PhaseLoop(_config(steps_per_loop=4, log_every_steps=100), 10, fake.save)
    assert loop.run(0, fake.train, max_steps=6) == 6
    assert fake.chunks == [4, 2]
    assert loop.run(6, fake.train, max_steps=0) == 6
    assert fake.chunks == [4, 2]


def test_a_signal_stops_the_phase_at_the_next_boundary_with_a_checkpoint(monkeypatch):
    saves, calls = [], []
    state = {"step": 40}

    def train(n):
        calls.append(n)
        state["step"] += n
        if len(calls) == 2:  # SIGTERM arrives during the second call
            monkeypatch.setattr(interrupts, "_received", signal.SIGTERM)
        return {"loss": 1.0}

    loop = PhaseLoop(
        _config(5, 100),
        total=50,
        save=lambda: saves.append(state["step"]),
        where=lambda: f"retrain step {state['step']}",
    )
    with pytest.raises(interrupts.Interrupted) as info:
        loop.run(0, train)
    assert calls == [5, 5]  # the second call finished; no third one started
    assert saves == [50]  # saved at the step it stopped at
    assert str(info.value) == "interrupted at retrain step 50; rerun the same command to resume"
    assert info.value.exit_code == 143


def test_without_a_signal_the_loop_never_asks_to_stop(monkeypatch):
    monkeypatch.setattr(interrupts, "_received", None)
    loop = PhaseLoop(_config(5, 100), total=20, save=lambda: None)
    assert loop.run(0, lambda n: {"loss": 0.0}) == 20

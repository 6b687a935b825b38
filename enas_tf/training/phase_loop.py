"""The eager outer loop of a training phase: chunks, checkpoint cadence, log cadence, means.

Every training phase of a run has the same shape (Orbit's controller, docs/DESIGN.md rule 7): a
`tf.function` runs `n` per-replica steps in a `tf.range` loop, and an eager loop around it
decides `n` for each call, checkpoints every `checkpoint_every_steps` steps, and logs every
`log_every_steps` steps the step-weighted means of everything since the last log line. The
search's child phase, its controller phase and retraining all run through `PhaseLoop.run`,
so the chunking and resume arithmetic is written once.

Steps are counted within the phase (`done` of `total`): a phase resumed mid-way starts from the
`done` its checkpoint implies, and the chunks keep the same boundaries as an uninterrupted run.

Between two calls the loop also asks whether the run was told to stop (SIGINT, SIGTERM:
`enas_tf.runtime.interrupts`); if so it saves a checkpoint and raises `Interrupted`, so a
rerun resumes at exactly that step.
"""

from __future__ import annotations

from typing import Callable

from enas_tf.runtime import interrupts


def train_chunk(config, done: int, total: int) -> int:
    """Steps in the next call: `steps_per_loop`, cut at log and checkpoint boundaries."""
    chunk = min(config.steps_per_loop, total - done)
    for every in (config.log_every_steps, config.checkpoint_every_steps):
        if every:
            chunk = min(chunk, every - done % every)
    return chunk


def checkpoint_due(config, done: int, total: int) -> bool:
    """Whether `done` of `total` steps of a phase is a mid-phase checkpoint point."""
    every = config.checkpoint_every_steps
    return bool(every) and done % every == 0 and done < total


class RunningMeans:
    """Step-weighted means of the metrics of several calls, between two log lines.

    A call running n steps returns the mean of its n steps; with `steps_per_loop` below
    `log_every_steps` a log line covers several calls and should report all of their steps.
    """

    def __init__(self):
        self._sums: dict[str, float] = {}
        self.steps = 0

    def add(self, metrics: dict, steps: int) -> None:
        for name, value in metrics.items():
            self._sums[name] = self._sums.get(name, 0.0) + float(value) * steps
        self.steps += steps

    def pop(self) -> dict:
        """The means since the last `pop` (empty if nothing was added); starts over."""
        means = {name: total / self.steps for name, total in self._sums.items()}
        self._sums, self.steps = {}, 0
        return means


# train(num_steps) -> {name: mean over those steps} (Python floats: the call has finished).
TrainFn = Callable[[int], dict]
# on_log(means since the last line, steps they cover, done) and on_call(values, steps, done).
LogFn = Callable[[dict, int, int], None]


class PhaseLoop:
    """Runs the steps of one phase in chunks, with the run's checkpoint and log cadence.

    Attributes:
      total: the phase's number of steps.
    """

    def __init__(
        self,
        config,
        total: int,
        save: Callable[[], None],
        *,
        where: Callable[[], str] = lambda: "a training phase",
        strategy=None,
    ):
        """Args:
        config: the run config (`steps_per_loop`, `log_every_steps`, `checkpoint_every_steps`).
        total: steps in the phase.
        save: writes a checkpoint (called at mid-phase checkpoint points and before stopping
          for a signal; the caller saves at the phase's end, where it also records that the
          phase is over).
        where: the phase and step for the interrupted message, read after the save (e.g.
          "search (epoch 2) child step 120": the numbers a resumed run logs).
        strategy: the run's strategy, so that every worker stops at the same boundary.
        """
        self.config, self.total, self.save = config, total, save
        self.where, self.strategy = where, strategy

    def run(
        self,
        done: int,
        train: TrainFn,
        *,
        on_log: LogFn | None = None,
        on_call: LogFn | None = None,
        max_steps: int | None = None,
    ) -> int:
        """Runs steps `done`..`total` (or `max_steps` of them) and returns the new `done`.

        Args:
          done: steps of this phase already taken (e.g. restored from a checkpoint).
          train: runs that many steps and returns their mean metrics.
          on_log: called at every log point (every `log_every_steps` and at the phase end)
            with the step-weighted means of the calls since the previous one.
          on_call: called after every call with its own values (e.g. per-update curves).
          max_steps: stop after this many steps even mid-phase (tests, benches); the caller
            sees `done < total`.
        """
        config, means, ran = self.config, RunningMeans(), 0
        while done < self.total:
            self._stop_if_requested()
            chunk = train_chunk(config, done, self.total)
            if max_steps is not None:
                chunk = min(chunk, max_steps - ran)
                if chunk <= 0:
                    break
            values = train(chunk)
            means.add(values, chunk)
            done, ran = done + chunk, ran + chunk
            if on_call is not None:
                on_call(values, chunk, done)
            if on_log is not None and (done % config.log_every_steps == 0 or done == self.total):
                steps = means.steps
                on_log(means.pop(), steps, done)
            if checkpoint_due(config, done, self.total):
                self.save()
        return done

    def _stop_if_requested(self) -> None:
        """Saves and raises `Interrupted` if a signal asked the run to stop."""
        signum = interrupts.requested(self.strategy)
        if signum is not None:
            self.save()
            raise interrupts.Interrupted(self.where(), signum)

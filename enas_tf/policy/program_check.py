"""The controller's static reading of a decision program: checks, weight needs, config form.

`Controller` unrolls a search space's program (`enas_tf.spaces.decisions`) in Python at trace
time. Before anything is traced, `analyse_program` walks the program once: it refuses a
malformed program with the position of the offending step (rather than failing somewhere in a
trace) and records which weights the program needs, so `Controller.build` creates only those.
`step_to_config` / `step_from_config` give the JSON-friendly form `Controller.get_config`
stores. No TensorFlow here: reading a program is plain Python.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional, Sequence

from enas_tf.spaces import decisions

STEP_TYPES = {
    cls.__name__: cls
    for cls in (
        decisions.OpChoice,
        decisions.IndexChoice,
        decisions.SkipChoice,
        decisions.AnchorStep,
        decisions.ResetAnchors,
    )
}


@dataclasses.dataclass(frozen=True)
class ProgramInfo:
    """Static facts about a program, gathered once so weights are built only where used.

    Attributes:
      groups: op-table name -> (num_ops, bias_init), in order of first appearance (this order
        fixes the order of the weights, so checkpoints of `controller.weights` are stable).
      uses_attention: whether any `IndexChoice` / `SkipChoice` scores anchors.
      uses_go: whether the go embedding is ever fed to the LSTM.
      num_tokens: number of int32 tokens the program emits.
      num_uniforms: random numbers one sample needs (one per outcome of every decision).
    """

    groups: dict[str, tuple[int, Optional[tuple[float, ...]]]]
    uses_attention: bool
    uses_go: bool
    num_tokens: int
    num_uniforms: int


def _check_candidates(position: int, step, num_anchors: int) -> None:
    if not 0 < step.num_candidates <= num_anchors:
        raise ValueError(
            f"program[{position}]: {type(step).__name__} asks for {step.num_candidates} "
            f"candidates but the current block has {num_anchors} anchors "
            f"(allowed: 1..{num_anchors})"
        )


def analyse_program(program: Sequence[decisions.DecisionStep], first_input: str) -> ProgramInfo:
    """Validates `program` and records which weights it needs.

    Raises at construction (rather than at trace time) so a malformed search space fails with
    the position of the offending step.

    Raises:
      TypeError: a step is not one of the `decisions` step types.
      ValueError: an attention choice asks for more anchors than the current block holds, or
        two `OpChoice` steps of one group disagree on `num_ops` / `bias_init`.
    """
    groups: dict[str, tuple[int, Optional[tuple[float, ...]]]] = {}
    uses_attention = False
    uses_go = False
    num_anchors = 0
    next_is_go = first_input == "go"
    for position, step in enumerate(program):
        if isinstance(step, decisions.ResetAnchors):
            num_anchors = 0
            continue
        if not isinstance(step, tuple(STEP_TYPES.values())):
            raise TypeError(f"program[{position}] is not a decision step: {step!r}")
        if isinstance(step, decisions.SkipChoice) and step.num_candidates == 0:
            continue  # No decision: no LSTM step, the input is left unchanged.
        uses_go = uses_go or next_is_go
        next_is_go = isinstance(step, decisions.AnchorStep)
        if isinstance(step, decisions.AnchorStep):
            num_anchors += 1
        elif isinstance(step, decisions.SkipChoice) and step.push_anchor:
            _check_candidates(position, step, num_anchors)
            uses_attention = True
            num_anchors += 1
        elif isinstance(step, decisions.OpChoice):
            spec = (step.num_ops, step.bias_init)
            if groups.setdefault(step.group, spec) != spec:
                raise ValueError(
                    f"program[{position}]: OpChoice group {step.group!r} has (num_ops, "
                    f"bias_init) {spec}, but an earlier step of that group has {groups[step.group]}"
                )
        else:
            _check_candidates(position, step, num_anchors)
            uses_attention = True
    num_uniforms = sum(decisions.num_outcomes(step) for step in program)
    return ProgramInfo(
        groups, uses_attention, uses_go, decisions.num_tokens(tuple(program)), num_uniforms
    )


def step_to_config(step: decisions.DecisionStep) -> dict[str, Any]:
    """A JSON-friendly dict for one step (used by `get_config`)."""
    config = {"type": type(step).__name__, **dataclasses.asdict(step)}
    if config.get("bias_init") is not None:
        config["bias_init"] = list(config["bias_init"])
    return config


def step_from_config(config: dict[str, Any]) -> decisions.DecisionStep:
    """Inverse of `step_to_config`."""
    config = dict(config)
    cls = STEP_TYPES[config.pop("type")]
    if config.get("bias_init") is not None:
        config["bias_init"] = tuple(config["bias_init"])
    return cls(**config)

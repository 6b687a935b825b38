"""Where the search's evidence goes: the log line, TensorBoard, and `search/checks.json`.

`enas_tf.search.check` scores policy samples against uniform arcs and the controller's initial
policy; this module shows the result to the user, the way they look for it:

* one log line per check ("policy 0.41 +- 0.01 vs random 0.33 +- 0.02 vs initial policy 0.40 +-
  0.01 ...: ahead of random by 3.8 SE, level with its initial policy (+0.4 SE): the advantage
  is the controller's prior, not learning");
* TensorBoard (`valid/`): `check/policy_mean`, `check/random_mean`, `check/initial_mean`, their
  standard errors and the policy's differences from both in standard errors;
  `sampled_child/<metric>` (the policy samples' mean); a sampled arc as text; and the policy
  itself: per decision block a heatmap of the mean choice probabilities (`policy/<panel>`
  images: a micro cell's nodes x candidates, macro layers x ops and skips, rnn nodes x previous
  nodes and activations) and per decision a histogram;
* `search/checks.json`: every check of the run (one entry per epoch, rewritten atomically), which
  derive copies into `candidates.json`.

Only the chief writes (summaries.Writers is disabled elsewhere; the JSON is guarded here).
"""

from __future__ import annotations

import os

import tensorflow as tf
from absl import logging

from enas_tf.runtime import files, replicas
from enas_tf.spaces import registry


def checks_path(workdir: str) -> str:
    """Where the search keeps the history of its policy-vs-random checks."""
    return os.path.join(workdir, "search", "checks.json")


def read_checks(workdir: str) -> list:
    """The checks written so far (empty before the first)."""
    path = checks_path(workdir)
    return files.read_json(path) if os.path.exists(path) else []


def choice_names(config) -> tuple[str, ...]:
    """Names of the op-like choices of the configured space (heatmap column labels)."""
    return registry.of(config).choice_names()


def report_check(search, epoch: int, result) -> None:
    """Logs a search check and writes it to TensorBoard and `search/checks.json`.

    Args:
      search: the running `enas_tf.search.Search`.
      epoch: 0-based epoch the check ran after.
      result: its `search_check.CheckResult`.
    """
    config, writers = search.config, search.writers
    logging.info("search epoch %d check: %s", epoch + 1, result.summary())
    if result.children_vs_chance():
        logging.info("search epoch %d: %s", epoch + 1, result.children_vs_chance())
    step = int(search.state.child_step.numpy())
    writers.scalars("valid", step, {f"check/{k}": v for k, v in result.scalars().items()})
    mean = result.policy.mean if result.policy is not None else result.random.mean
    writers.scalars("valid", step, {f"sampled_child/{search.task.metric}": mean})
    arc = registry.of(config).arc_from_tokens(list(result.example_tokens))
    writers.text("valid", step, "sampled_arc", registry.arc_markdown(arc))
    if result.choice_probs is not None and writers.enabled:
        write_policy_summaries(
            writers, "valid", step, config, search.state.controller.program, result.choice_probs
        )
    if replicas.is_chief(search.strategy):
        history = [h for h in read_checks(search.workdir) if h["epoch"] != epoch + 1]
        history.append({"epoch": epoch + 1, "child_step": step, **result.to_json()})
        files.write_json_atomic(checks_path(search.workdir), history)


def final_evidence(workdir: str) -> list[str]:
    """The lines that end a run: the search's last check, how far its children are from chance,
    and derive's check (read from `search/checks.json` and `candidates.json`; none if absent).

    These are what tells a user whether the search learned anything on their data (ahead of
    random and of its initial policy, or only of random: the controller's prior), so the
    command line repeats them after the retrained score instead of leaving them in the log.
    """
    lines = []
    checks = read_checks(workdir)
    if checks:
        last = checks[-1]
        lines.append(f"search check after epoch {last['epoch']}: {last['summary']}")
        if last.get("children_vs_chance"):
            lines.append(f"search epoch {last['epoch']}: {last['children_vs_chance']}")
    candidates_path = os.path.join(workdir, "candidates.json")
    if os.path.exists(candidates_path):
        check = files.read_json(candidates_path).get("check")
        if check:
            lines.append(f"derive check: {check['summary']}")
    return lines


def write_policy_summaries(writers, name: str, step: int, config, program, choice_probs):
    """The policy's mean choice probabilities as heatmap images and per-decision histograms."""
    from enas_tf.pictures import (
        policy_pictures,  # matplotlib: imported only when pictures are drawn
    )

    panels = policy_pictures.split_choice_probs(
        program, choice_probs, registry.of(config).choice_panels()
    )
    with writers.as_default(name, step):
        for panel in panels:
            image = policy_pictures.heatmap_tensor(panel, title=f"{panel.name}, step {step}")
            tf.summary.image(f"policy/{panel.name}", image)
            for tag, values in policy_pictures.panel_histograms(panel).items():
                tf.summary.histogram(f"policy_{panel.name}/{tag}", values)

"""Where the search's evidence goes: TensorBoard, and `search/checks.json`.

`enas_tf.search.check` scores policy samples against uniform arcs and the controller's initial
policy; this module shows the result to the user, the way they look for it (the log line of a
check is part of the epoch's lines, `enas_tf.search.run`):

* TensorBoard (`valid/`, tags from `enas_tf.board.tags`): `search/check/*` (each group's
  mean with its standard-error band, the z-scores); `search/check/arcs`, the check's verdict
  and its scored policy samples as a markdown table with op and input names; after every
  controller phase `search/sampled_arcs`, a few of the policy's samples with their scores on
  a validation minibatch; and the policy itself, per decision block a heatmap of the mean
  choice probabilities (`search/policy/<panel>`: a micro cell's nodes x candidates, macro
  layers x ops and skips, rnn nodes x previous nodes and activations);
* `search/checks.json`: every check of the run (one entry per epoch, rewritten atomically), which
  derive copies into `candidates.json`.

Only the chief writes (summaries.Writers is disabled elsewhere; the JSON is guarded here).
"""

from __future__ import annotations

import os

import tensorflow as tf

from enas_tf.board import tags
from enas_tf.runtime import files, replicas
from enas_tf.search import check as search_check
from enas_tf.spaces import registry

SAMPLES_SHOWN = 4  # policy samples shown (and scored) after every controller phase


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
    """Writes a search check to TensorBoard and `search/checks.json`.

    Args:
      search: the running `enas_tf.search.Search`.
      epoch: 0-based epoch the check ran after.
      result: its `search_check.CheckResult`.
    """
    config, writers = search.config, search.writers
    step = int(search.state.child_step.numpy())
    writers.scalars("valid", step, tags.check_scalars(result))
    scores = result.policy if result.policy is not None else result.random
    rows = _ranked(config, result.arcs, scores.scores, result.higher_is_better)
    who = "policy samples" if result.policy is not None else "uniform arcs"
    text = (
        f"**Check after epoch {epoch + 1}** (child step {step}): {result.summary()}\n\n"
        f"{len(rows)} {who}, best first:\n\n" + registry.arcs_table(rows, f"valid {result.metric}")
    )
    writers.text("valid", step, tags.CHECK_ARCS, text)
    if result.choice_probs is not None and writers.enabled:
        write_policy_summaries(
            writers, "valid", step, config, search.state.controller.program, result.choice_probs
        )
    if replicas.is_chief(search.strategy):
        history = [h for h in read_checks(search.workdir) if h["epoch"] != epoch + 1]
        history.append({"epoch": epoch + 1, "child_step": step, **result.to_json()})
        files.write_json_atomic(checks_path(search.workdir), history)


def _ranked(config, tokens_list, scores, higher_is_better: bool) -> list:
    """(score, arc) rows, best first, for `registry.arcs_table`."""
    space = registry.of(config)
    rows = [
        (score, space.arc_from_tokens(list(tokens)))
        for score, tokens in zip(scores, tokens_list, strict=True)
    ]
    return sorted(rows, key=lambda row: -row[0] if higher_is_better else row[0])


def report_samples(search, epoch: int, sampler, seed: int, batches) -> float:
    """`SAMPLES_SHOWN` arcs of `sampler`, scored on `batches`, as a text table (`valid/`).

    Every replica and worker scores (the evaluation is a collective step); the chief writes.

    Returns:
      The arcs' mean score.
    """
    task = search.task
    outputs = search_check.draw_samples(sampler, seed, SAMPLES_SHOWN)
    tokens_list = [getattr(out, "tokens", out) for out in outputs]
    scores = search_check.score_arcs(search.steps.evaluate_arc, batches, tokens_list)
    if not search.writers.enabled:
        return scores.mean
    arcs = [tuple(int(t) for t in tokens.numpy()) for tokens in tokens_list]
    rows = _ranked(search.config, arcs, scores.scores, task.higher_is_better)
    who = "uniform arcs" if search.config.search.policy == "random" else "policy samples"
    step = int(search.state.child_step.numpy())
    text = (
        f"**Epoch {epoch + 1}** (child step {step}): {len(rows)} {who}, each scored on the "
        f"same validation minibatch, best first:\n\n"
        + registry.arcs_table(rows, f"valid {task.metric}")
    )
    search.writers.text("valid", step, tags.SAMPLED_ARCS, text)
    return scores.mean


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
    """The policy's mean choice probabilities as heatmap images (`search/policy/<panel>`).

    Images only: a histogram of a decision's 3-5 probabilities loses which op each one is.
    """
    from enas_tf.pictures import (
        policy_pictures,  # matplotlib: imported only when pictures are drawn
    )

    panels = policy_pictures.split_choice_probs(
        program, choice_probs, registry.of(config).choice_panels()
    )
    with writers.as_default(name, step):
        for panel in panels:
            image = policy_pictures.heatmap_tensor(panel, title=f"{panel.name}, step {step}")
            tf.summary.image(tags.policy_picture(panel.name), image)

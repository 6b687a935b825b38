"""`--mode=audit`: did the search beat random on this data? Retrain and compare (issue #24).

The in-run check (`enas_tf.search.check`) compares shared-weight scores only: it can say the
policy picks arcs the supernet likes, not that those arcs train better. The audit asks training
itself. After a finished search and derive in a workdir it retrains, each alone and with the
same seed, at a short budget (`config.audit`, `enas_tf.config.audit_retrain_config`):

* the derived arc (`arc.json`),
* the next-best `audit.num_candidates` derive candidates (`candidates.json`, best first),
* `audit.num_random` arcs drawn uniformly from the same space (seeded by the run's seed);

scores every one of them again with the search's trained supernet on the same
`audit.score_batches` validation minibatches (so the derive candidates' scores are comparable
with the random arcs'), and writes `audit.json` and `audit.png` with the derived arc's rank,
the random arcs it beats, Kendall's tau between shared-weight and retrained scores, and one
verdict line (`enas_tf.audit_report`). It is a short-budget ranking, not the final retrain.

Layout and resume: `<workdir>/audit/<arc name>/` is a workdir of its own for each arc
(`config.json`, `retrain/` with its checkpoints and `result.json`), trained by the pipeline's
retrain machinery (`pipeline.retrain_arc`) under the run's strategy. A finished arc is never
retrained; shared-weight scores are kept in `audit/shared_scores.json`; SIGINT/SIGTERM stop
at the next step boundary (or between arcs) with a checkpoint, and the same command resumes.
`audit.json` and `audit.png` are written, atomically, only when every arc is done; a finished
audit rerun rewrites nothing. Everything is checked before the workdir is touched (`prepare`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Callable

import numpy as np
from absl import logging

from enas_tf import audit_report
from enas_tf import config as config_lib
from enas_tf.errors import WorkdirError
from enas_tf.runtime import checkpoints, files, interrupts
from enas_tf.spaces import arc_io, registry

AUDIT_DIR = "audit"
_SCORES = "shared_scores.json"
RANDOM_STREAM = 0xA0D17  # the random arcs' numpy stream beside the run's seed
_BATCHES_STREAM = 0xA0D18  # and their validation minibatches'


@dataclasses.dataclass(frozen=True)
class AuditArc:
    """One arc to audit: `name` is also its directory under `<workdir>/audit/`."""

    name: str
    kind: str  # "derived", "candidate" or "random"
    arc: Any
    directory: str
    derive_score: float | None = None  # its score in derive (candidates.json), if it had one


@dataclasses.dataclass(frozen=True)
class Plan:
    """What an audit of one workdir retrains and with which config; made by `prepare`."""

    workdir: str
    arcs: tuple[AuditArc, ...]
    retrain_config: Any  # `config.audit_retrain_config(config)`
    cached_scores: dict  # {arc name: shared-weight score} from an earlier, stopped audit
    settings: dict  # `config.audit`, recorded in audit.json


def _json(arc) -> Any:
    """An arc's JSON as a JSON reader gives it back (lists, not tuples), for comparisons."""
    return json.loads(json.dumps(arc.to_json()))


def _key(arc_json) -> str:
    return json.dumps(arc_json, sort_keys=True)


def prepare(config, workdir: str) -> Plan:
    """The arcs to audit, after checking that the workdir can be audited (reads only).

    Raises:
      WorkdirError: no finished search and derive (saying what to run first), or audit
        directories from another search or budget (saying what to delete).
    """
    if config.arc:
        raise WorkdirError(
            f"--mode=audit audits the search in --workdir, but config.arc={config.arc!r} "
            "retrains a given arc without a search: drop config.arc (a config's :phase=final "
            "sets it) and audit a workdir that searched"
        )
    arc_path, candidates_path = (os.path.join(workdir, n) for n in ("arc.json", "candidates.json"))
    missing = [p for p in (arc_path, candidates_path) if not os.path.exists(p)]
    if missing:
        raise WorkdirError(
            f"--mode=audit: no finished search and derive in {workdir} ({missing[0]} does not "
            "exist); run them first: the same command with --mode=search, then --mode=derive "
            "(or without --mode, the whole pipeline)"
        )
    try:
        candidates = files.read_json(candidates_path)["candidates"]
        derive_scores = {
            _key(c["arc"]): next(v for k, v in c.items() if k.startswith("valid_"))
            for c in candidates
        }
    except (OSError, ValueError, KeyError, TypeError, StopIteration) as error:
        raise WorkdirError(
            f"{candidates_path} is unreadable ({error!r}); run --mode=derive again"
        ) from None
    derived, audit, space = arc_io.load_arc(arc_path), config.audit, registry.of(config)
    space.check_arc(derived)
    root = os.path.join(workdir, AUDIT_DIR)

    def entry(name, kind, arc):
        score = derive_scores.get(_key(arc.to_json()))
        return AuditArc(name, kind, arc, os.path.join(root, name), score)

    arcs = [entry("derived", "derived", derived)]
    for candidate in candidates:
        arc = arc_io.arc_from_json(candidate["arc"])
        if arc != derived and len(arcs) <= audit.num_candidates:
            arcs.append(entry(f"candidate_{candidate['rank']}", "candidate", arc))
    if len(arcs) <= audit.num_candidates:
        logging.warning(
            "audit: %s holds %d other candidates; auditing those instead of audit.num_candidates"
            "=%d",
            candidates_path,
            len(arcs) - 1,
            audit.num_candidates,
        )
    rng = np.random.default_rng([config.seed, RANDOM_STREAM])
    for index in range(audit.num_random):
        arcs.append(entry(f"random_{index + 1}", "random", space.sample_random_arc(rng)))
    retrain_config = config_lib.audit_retrain_config(config)
    for arc in arcs:
        _check_arc_directory(arc, retrain_config, workdir)
    cached = _cached_scores(config, root, arcs)
    search_ckpt = os.path.join(workdir, "search", "ckpt")
    if len(cached) < len(arcs) and not checkpoints.has_checkpoint(search_ckpt):
        raise WorkdirError(
            f"--mode=audit: no search checkpoint in {search_ckpt}: the audit scores arcs with "
            "the search's trained supernet; rerun the search in a new --workdir"
        )
    return Plan(workdir, tuple(arcs), retrain_config, cached, audit.to_dict())


def _check_arc_directory(arc: AuditArc, retrain_config, workdir: str) -> None:
    """Refuses an arc directory trained on another arc or at another budget than planned."""
    redo = f"delete {os.path.join(workdir, AUDIT_DIR)} to redo the audit"
    trained = os.path.join(arc.directory, "retrain", "arc.json")
    if os.path.exists(trained) and arc_io.load_arc(trained) != arc.arc:
        raise WorkdirError(
            f"{arc.directory} retrained another arc than this search's {arc.name} (was the search "
            f"redone?): {redo}"
        )
    saved_path = os.path.join(arc.directory, "config.json")
    if not os.path.exists(saved_path):
        return
    try:
        saved = files.read_json(saved_path)["retrain"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise WorkdirError(f"{saved_path} is unreadable ({error!r}): {redo}") from None
    now = json.loads(retrain_config.to_json())["retrain"]
    for key in sorted(set(saved) | set(now)):
        if saved.get(key) != now.get(key):
            raise WorkdirError(
                f"{arc.directory} was retrained with config.retrain.{key}={saved.get(key)!r}; "
                f"this audit asks for {now.get(key)!r} (config.audit or config.retrain changed): "
                f"{redo} at the new budget, or set them back"
            )


def _score_settings(config) -> dict:
    return {
        "score_batches": config.audit.score_batches,
        "eval_batch_size": config.search.eval_batch_size,
    }


def _cached_scores(config, root: str, arcs) -> dict:
    """{name: shared-weight score} saved by an earlier run of this audit, for the same arcs."""
    path = os.path.join(root, _SCORES)
    try:
        saved = files.read_json(path)
    except (OSError, ValueError):
        return {}
    if not isinstance(saved, dict) or saved.get("settings") != _score_settings(config):
        return {}
    kept = saved.get("arcs", {})
    return {
        a.name: float(kept[a.name]["score"])
        for a in arcs
        if isinstance(kept.get(a.name), dict) and kept[a.name].get("arc") == _json(a.arc)
    }


def finished(plan: Plan) -> dict | None:
    """audit.json if it already holds this audit (same arcs and settings), else None."""
    path = os.path.join(plan.workdir, "audit.json")
    try:
        saved = files.read_json(path)
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("settings") != plan.settings:
        return None
    planned = [{"name": a.name, "arc": _json(a.arc)} for a in plan.arcs]
    done = [{"name": a.get("name"), "arc": a.get("arc")} for a in saved.get("arcs", [])]
    return saved if done == planned else None


RetrainArc = Callable[..., dict]  # pipeline.retrain_arc(config, workdir, strategy, task, arc, jit)


def run(plan: Plan, config, strategy, task, jit: dict, retrain_arc: RetrainArc) -> dict:
    """Scores and retrains every planned arc (resuming), then writes audit.json and audit.png.

    Args:
      plan: from `prepare`.
      config: the run config (its search section scores the arcs).
      strategy: the run's strategy; the retrains run under it.
      task: the task loaded with `plan.retrain_config` (the same data; the audit's budget).
      jit: {"search": bool, "retrain": bool}, as the pipeline decided them.
      retrain_arc: trains one arc alone in its own workdir and returns its result dict.

    Returns:
      The audit.json payload.

    Raises:
      Interrupted: a signal arrived; the arcs finished so far and a checkpoint are kept.
    """
    from enas_tf.runtime import replicas

    chief = replicas.is_chief(strategy)
    shared = _shared_weight_scores(plan, config, strategy, task, jit["search"], chief)
    metric, outcomes, total = task.metric, [], len(plan.arcs)
    for index, arc in enumerate(plan.arcs):
        result_path = os.path.join(arc.directory, "retrain", "result.json")
        if os.path.exists(result_path):
            result = files.read_json(result_path)
        else:
            signum = interrupts.requested(strategy)
            if signum is not None:
                raise interrupts.Interrupted(f"audit after {index} of {total} arcs", signum)
            logging.info(
                "audit: arc %d of %d, %s (%s): %s",
                index + 1,
                total,
                arc.name,
                arc.kind,
                registry.describe_arc(arc.arc),
            )
            try:
                result = retrain_arc(
                    plan.retrain_config, arc.directory, strategy, task, arc.arc, jit["retrain"]
                )
            except interrupts.Interrupted as stop:
                where = f"audit arc {index + 1} of {total} ({arc.name}), {stop.where}"
                raise interrupts.Interrupted(where, stop.signum) from None
        outcomes.append(
            audit_report.ArcOutcome(
                arc.name,
                arc.kind,
                shared[arc.name],
                float(result[f"valid_{metric}"]),
                float(result[f"test_{metric}"]),
            )
        )
    summary = audit_report.summarise(
        outcomes, higher_is_better=task.higher_is_better, metric=metric
    )
    payload = _payload(plan, config, summary)
    for line in payload["table"] + [payload["verdict"]]:
        logging.info("%s", line)
    if chief:
        png = audit_report.draw_audit(payload)
        files.write_bytes_atomic(os.path.join(plan.workdir, "audit.png"), png)
        files.write_json_atomic(os.path.join(plan.workdir, "audit.json"), payload)
    return payload


def _payload(plan: Plan, config, summary: dict) -> dict:
    """audit.json: the settings, each arc with its scores and arc, the figures and verdict."""
    rt = plan.retrain_config.retrain
    extra = {
        a.name: {
            "derive_score": a.derive_score,
            "directory": os.path.relpath(a.directory, plan.workdir),
            "arc": a.arc.to_json(),
        }
        for a in plan.arcs
    }
    return {
        "settings": plan.settings,
        "retrain": {"epochs": rt.epochs, "model": rt.model.to_dict()},
        "shared_scored_on": (
            f"{config.audit.score_batches} validation minibatch(es) of "
            f"{config.search.eval_batch_size}, the search's last checkpoint"
        ),
        **summary,
        "arcs": [{**arc, **extra[arc["name"]]} for arc in summary["arcs"]],
        "table": audit_report.table(summary),
    }


def _shared_weight_scores(plan: Plan, config, strategy, task, jit: bool, chief: bool) -> dict:
    """Every arc's score under the search's shared weights, on the same minibatches.

    Scored once (saved in audit/shared_scores.json), so a resumed audit does not build the
    supernet again. The minibatches have a seed of their own, not derive's: the derived arc
    won on derive's minibatches, and scoring it there again would flatter it.
    """
    scores = dict(plan.cached_scores)
    missing = [a for a in plan.arcs if a.name not in scores]
    if not missing:
        return scores
    import tensorflow as tf

    from enas_tf.runtime import seeds
    from enas_tf.search import Search
    from enas_tf.search import check as search_check

    seeds.seed_stage(config, "search")
    search = Search(config, plan.workdir, strategy, task, jit)
    if not search.restore():
        raise WorkdirError(f"--mode=audit: no search checkpoint in {plan.workdir}/search/ckpt")
    batches = search.check_batches(
        config.seed * 1_000_003 + _BATCHES_STREAM, config.audit.score_batches
    )
    space = registry.of(config)
    tokens = [tf.constant(space.supernet_tokens(a.arc), tf.int32) for a in missing]
    new = search_check.score_arcs(search.steps.evaluate_arc, batches, tokens).scores
    scores.update({a.name: float(s) for a, s in zip(missing, new, strict=True)})
    logging.info(
        "audit: scored %d arcs with the shared weights on %d validation minibatch(es)",
        len(missing),
        config.audit.score_batches,
    )
    if chief:
        files.write_json_atomic(
            os.path.join(plan.workdir, AUDIT_DIR, _SCORES),
            {
                "settings": _score_settings(config),
                "arcs": {
                    a.name: {"arc": a.arc.to_json(), "score": scores[a.name]} for a in plan.arcs
                },
            },
        )
    return scores

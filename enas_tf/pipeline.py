"""The stages of a run in one workdir: search -> derive -> retrain -> export (and audit).

`--mode=audit` is a stage of its own, after derive and never part of `all` (`enas_tf.audit`:
the derived arc, other candidates and random arcs retrained alone, through `retrain_arc`).

Every stage is resumable and skips itself when its output already exists, so the same command
run twice continues instead of starting over. Inputs are checked before anything is written:
a bad config, arc or data path fails fast and leaves the workdir as it was.
"""

from __future__ import annotations

import json
import os

import ml_collections
from absl import logging

from enas_tf import config as config_lib
from enas_tf.config import workdir_config
from enas_tf.errors import WorkdirError
from enas_tf.runtime import files, interrupts, replicas, seeds, workdir_lock
from enas_tf.runtime import precision as precision_lib
from enas_tf.runtime import strategy as strategy_lib
from enas_tf.spaces import arc_io, registry

MODES = ("all", "search", "derive", "retrain", "export", "audit")
PHASES = ("search", "retrain")  # the phases with their own jit_compile setting


def _resolve_arc(config):
    """The arc to retrain when `config.arc` is set (a path or a published name), else None."""
    if not config.arc:
        return None
    arc = arc_io.load_arc(config.arc)
    space = registry.of(config)
    space.check_arc(arc)
    note = space.arc_size_note(arc)
    if note:
        logging.warning("config.arc=%s: %s", config.arc, note)
    return arc


def run(config: ml_collections.ConfigDict, workdir: str, *, tpu: str = "", mode: str = "all"):
    """Runs the requested stages. Returns a dict of what each stage produced."""
    if mode not in MODES:
        raise config_lib.ConfigError(f"--mode={mode!r}: must be one of {MODES}")
    config_lib.validate(config)
    files.check_workdir(workdir)
    fixed_arc = _resolve_arc(config)
    workdir_config.check_workdir_config(config, workdir)
    _check_stage_inputs(workdir, mode, fixed_arc)
    plan = None
    if mode == "audit":  # what the audit needs (a finished search) is checked before writing
        from enas_tf import audit

        plan = audit.prepare(config, workdir)
    # The strategy comes before the data: a multi-worker strategy must configure TensorFlow's
    # collective ops before any TensorFlow op runs, and reading images (decoding a folder,
    # channel statistics of a stream) runs some.
    strategy = strategy_lib.create_strategy(tpu, config.get("cluster_wait_seconds", 600))
    interrupts.reinstall()  # a multi-worker strategy's coordination service took SIGTERM
    # Loading the data is the last check before the workdir is written: a bad path fails
    # here. (TensorFlow-heavy: imported once the config is valid.) The audit's task carries
    # its retrain budget; the search's keys are the run's.
    from enas_tf.tasks import load_task

    task = load_task(plan.retrain_config if plan else config)
    check_replica_batches(config, strategy)
    jit = {phase: strategy_lib.use_jit(config.jit_compile[phase], strategy) for phase in PHASES}
    precision = precision_lib.set_precision(config.precision, strategy)
    graph_optimizer = strategy_lib.configure_graph_optimizer(config.graph_optimizer, strategy)
    chief = replicas.is_chief(strategy)
    lock = workdir_lock.WorkdirLock(workdir)
    if chief:  # workers write no workdir files of their own (enas_tf.runtime.workdir_lock)
        lock.acquire()
    try:
        finished = _finished_outputs(config, workdir, fixed_arc) if mode == "all" else None
        if finished is not None:
            logging.info(
                "nothing to do: %s has finished every stage (arc, retrain/result.json, "
                "export/); delete a stage's outputs to redo it, or use another --workdir",
                workdir,
            )
            _update_board(config, workdir, task, strategy)
            return finished
        audited = audit.finished(plan) if plan else None
        if audited is not None:
            logging.info(
                "nothing to do: %s has finished its audit (audit.json); delete audit.json to "
                "write it again, or %s/audit too to retrain its arcs",
                workdir,
                workdir,
            )
            _update_board(config, workdir, task, strategy)
            return {"audit": audited, "nothing_to_do": True}
        if not os.path.exists(os.path.join(workdir, "config.json")) and not (
            replicas.is_multi_worker(strategy)  # where building models is a collective
        ):
            _check_checkpoints_fit(config, workdir, strategy, task, jit, mode, fixed_arc)
        if chief:
            _write_config(config, workdir)
        _update_board(config, workdir, task, strategy)
        logging.info(
            "run: workdir %s, mode %s, %s, %d replica(s) (%s), jit_compile=%s, precision %s, "
            "graph optimizer %s",
            workdir,
            mode,
            task.description,
            strategy.num_replicas_in_sync,
            "chief" if chief else "worker",
            jit,
            precision,
            "on" if graph_optimizer else "off",
        )
        if plan:
            outputs = {"audit": audit.run(plan, config, strategy, task, jit, retrain_arc)}
            _update_board(config, workdir, task, strategy)
            return outputs
        outputs = {}
        if fixed_arc is None and mode in ("all", "search", "derive"):
            outputs.update(_search_and_derive(config, workdir, strategy, task, jit["search"], mode))
            _update_board(config, workdir, task, strategy)
        if mode in ("all", "retrain", "export"):
            arc_path = os.path.join(workdir, "arc.json")
            arc = fixed_arc or outputs.get("arc") or _load_derived_arc(arc_path, mode)
            outputs.update(
                _retrain_and_export(config, workdir, strategy, task, arc, jit["retrain"], mode)
            )
            _update_board(config, workdir, task, strategy)
        return outputs
    finally:
        lock.release()


def _check_stage_inputs(workdir: str, mode: str, fixed_arc) -> None:
    """Refuses a command whose stages lack their inputs, before anything is written.

    A refused command must leave the workdir as it was: a refused `--mode=export` that had
    written `retrain/arc.json` made a later retrain of an edited arc.json look like the
    retrain of another arc.

    Raises:
      WorkdirError: naming what is missing or conflicting and what to run first.
    """
    if mode == "derive" and fixed_arc is None and not _has_checkpoint(workdir, "search"):
        raise WorkdirError(
            f"--mode=derive: no search checkpoint in {workdir}/search/ckpt; run --mode=search first"
        )
    if mode not in ("all", "retrain", "export"):
        return
    arc_path = os.path.join(workdir, "arc.json")
    if fixed_arc is None and mode == "all" and not os.path.exists(arc_path):
        return  # derive writes it
    _check_retrain_arc(workdir, fixed_arc or _load_derived_arc(arc_path, mode))
    if mode == "export" and not os.path.exists(os.path.join(workdir, "retrain", "result.json")):
        raise WorkdirError(
            f"--mode=export: no finished retraining in {workdir}/retrain; run --mode=retrain first"
        )


def _has_checkpoint(workdir: str, phase: str) -> bool:
    """Whether `workdir/<phase>/ckpt` holds a checkpoint (its `.index` file)."""
    from enas_tf.runtime.checkpoints import has_checkpoint

    return has_checkpoint(os.path.join(workdir, phase, "ckpt"))


def _check_retrain_arc(workdir: str, arc) -> None:
    """Refuses to retrain `arc` where another arc's retraining has begun.

    `retrain/arc.json` of another arc with no checkpoint and no result means nothing was
    trained (a run stopped before its first checkpoint): it is replaced, not refused.
    """
    retrain_arc_path = os.path.join(workdir, "retrain", "arc.json")
    if not os.path.exists(retrain_arc_path) or arc_io.load_arc(retrain_arc_path) == arc:
        return
    trained = _has_checkpoint(workdir, "retrain") or os.path.exists(
        os.path.join(workdir, "retrain", "result.json")
    )
    if trained:
        raise WorkdirError(
            f"{workdir}/retrain was trained on a different arc ({retrain_arc_path}); use a "
            "new --workdir to retrain another architecture"
        )


def _check_checkpoints_fit(config, workdir, strategy, task, jit, mode, fixed_arc) -> None:
    """Refuses checkpoints of another model size in a workdir that has lost its config.json.

    `check_workdir_config` compares a rerun's config with the saved one; without config.json
    the first sign of another size was a ValueError deep in the restore, after config.json
    had been written with the new sizes. The stages' models are built here once more (a rare
    case) so their checkpoints are checked by name and shape before anything is written.
    Not under MultiWorkerMirroredStrategy: creating variables is a collective there, and the
    workers need not see the same files; their restore refuses the checkpoint with the same
    line, after config.json is written.

    Raises:
      CheckpointError: naming a variable whose saved and configured shapes differ.
    """
    from enas_tf.retrain import Retrain
    from enas_tf.search import Search

    if fixed_arc is None and mode in ("all", "search", "derive"):
        if _has_checkpoint(workdir, "search"):
            Search(config, workdir, strategy, task, jit["search"]).manager.check_latest("search")
    if mode in ("all", "retrain", "export") and _has_checkpoint(workdir, "retrain"):
        arc_path = os.path.join(workdir, "retrain", "arc.json")
        arc = fixed_arc or (arc_io.load_arc(arc_path) if os.path.exists(arc_path) else None)
        if arc is not None:
            retrain = Retrain(config, workdir, strategy, task, arc, jit["retrain"])
            retrain.manager.check_latest("retrain")


def _update_board(config, workdir: str, task, strategy) -> None:
    """The run's HParams session, custom-scalars layout and results so far (chief only).

    Called at the start and after every stage: each value is written once, when the file it
    is read from exists (`enas_tf.board.hparams`).
    """
    if replicas.is_chief(strategy):
        from enas_tf.board import hparams

        hparams.update(config, workdir, task.metric)


def _write_config(config, workdir: str) -> None:
    """Writes config.json unless it already holds this config (a rerun rewrites nothing)."""
    path = os.path.join(workdir, "config.json")
    payload = json.loads(config.to_json())
    if os.path.exists(path):
        try:
            if files.read_json(path) == payload:
                return
        except (OSError, json.JSONDecodeError):
            pass  # unreadable: check_workdir_config refused it already, or it is rewritten
    files.write_json_atomic(path, payload)


def _search_and_derive(config, workdir, strategy, task, jit, mode) -> dict:
    """Search (unless its derived arc.json exists and `mode` is "all") and derive."""
    arc_path = os.path.join(workdir, "arc.json")
    if mode == "all" and os.path.exists(arc_path):
        # The search finished (derive only runs after it): its checkpoint is not needed.
        logging.info("search and derive: %s exists, keeping it", arc_path)
        if replicas.is_chief(strategy):
            from enas_tf.derive import draw_missing

            draw_missing(config, workdir)
        return {}
    from enas_tf.derive import derive
    from enas_tf.search import Search

    seeds.seed_stage(config, "search")
    search = Search(config, workdir, strategy, task, jit)
    if mode in ("all", "search"):
        logging.info(
            "search: %s space, %.3g architectures to choose from",
            config.space,
            registry.of(config).size(),
        )
        search.run()
    elif not search.restore():
        raise WorkdirError(
            f"--mode=derive: no search checkpoint in {workdir}/search/ckpt; run --mode=search first"
        )
    if mode in ("all", "derive"):
        return {"arc": derive(config, workdir, search)}
    return {}


def _finished_outputs(config, workdir: str, fixed_arc):
    """What a finished run produced, read from its files, or None if a stage is left to do."""
    from enas_tf.export import latest_version

    arc_path = os.path.join(workdir, "arc.json")
    result_path = os.path.join(workdir, "retrain", "result.json")
    retrain_arc_path = os.path.join(workdir, "retrain", "arc.json")
    export_root = os.path.join(workdir, "export")
    version = latest_version(export_root)
    derived = [arc_path] + [os.path.join(workdir, name) for name in ("arc.png", "arc.dot")]
    done = [result_path, retrain_arc_path] + ([] if fixed_arc is not None else derived)
    if not version or not all(os.path.exists(path) for path in done):
        return None
    arc = fixed_arc if fixed_arc is not None else arc_io.load_arc(arc_path)
    if arc_io.load_arc(retrain_arc_path) != arc:
        return None  # _retrain_and_export refuses it with the full message
    try:
        result = files.read_json(result_path)
    except (OSError, json.JSONDecodeError):
        return None  # rewritten by retraining again
    outputs = {"retrain": result, "export": os.path.join(export_root, str(version))}
    outputs["nothing_to_do"] = True
    return outputs if fixed_arc is not None else {**outputs, "arc": arc}


def check_replica_batches(config, strategy) -> None:
    """Refuses global batch sizes the strategy's replicas cannot share equally.

    Raises:
      ConfigError: naming the key, its value and the replica count.
    """
    keys = ["search.batch_size", "search.eval_batch_size"]
    if "retrain" in config:
        keys += ["retrain.batch_size", "retrain.eval_batch_size"]
    for key in keys:
        replicas.check_divisible(workdir_config.lookup(config.to_dict(), key), strategy, key)


def _load_derived_arc(arc_path: str, mode: str):
    if not os.path.exists(arc_path):
        raise WorkdirError(
            f"--mode={mode}: no architecture to retrain: {arc_path} does not exist. Run the "
            "search and derive stages first, or pass --config.arc=path/to/arc.json or a "
            f"published name ({', '.join(arc_io.published_names())})"
        )
    return arc_io.load_arc(arc_path)


def retrain_arc(config, workdir: str, strategy, task, arc, jit: bool) -> dict:
    """Retrains `arc` alone in `workdir`, a workdir of its own, and returns its result.

    What `--mode=audit` runs for every arc it compares (`enas_tf.audit`): this module's
    retrain stage (config.json, `retrain/` checkpoints, resume, `result.json`) with the
    caller's strategy, task and lock, so that many arcs train in one process.
    """
    workdir_config.check_workdir_config(config, workdir)
    if replicas.is_chief(strategy):
        _write_config(config, workdir)
    return _retrain_and_export(config, workdir, strategy, task, arc, jit, "retrain")["retrain"]


def _retrain_and_export(config, workdir, strategy, task, arc, jit, mode):
    from enas_tf.export import latest_version
    from enas_tf.retrain import Retrain

    retrain_arc_path = os.path.join(workdir, "retrain", "arc.json")
    _check_retrain_arc(workdir, arc)
    fresh = not os.path.exists(retrain_arc_path) or arc_io.load_arc(retrain_arc_path) != arc
    if fresh and replicas.is_chief(strategy):
        arc_io.save_arc(arc, retrain_arc_path)
    seeds.seed_stage(config, "retrain")
    retrain = Retrain(config, workdir, strategy, task, arc, jit)
    outputs = {}
    finished = os.path.exists(retrain.result_path)
    if mode in ("all", "retrain") and not finished:
        outputs["retrain"] = retrain.run()  # restores the newest checkpoint itself
    elif not finished:
        raise WorkdirError(
            f"--mode=export: no finished retraining in {workdir}/retrain; run --mode=retrain first"
        )
    else:  # finished: its result stands, its checkpoint is needed only for an export
        logging.info("retrain: %s exists, keeping it", retrain.result_path)
        outputs["retrain"] = files.read_json(retrain.result_path)
    export_root = os.path.join(workdir, "export")
    version = latest_version(export_root)
    if mode == "all" and version and os.path.exists(os.path.join(export_root, str(version))):
        logging.info("export: %s/%d exists, keeping it", export_root, version)
        outputs["export"] = os.path.join(export_root, str(version))
    elif mode in ("all", "export"):
        if finished and not retrain.restore_latest():
            raise WorkdirError(
                f"{workdir}/retrain has result.json but no checkpoint to export from; delete "
                f"{workdir}/retrain to retrain, or use another --workdir"
            )
        if replicas.is_chief(strategy):
            with interrupts.without_steps("export"):
                outputs["export"] = task.export(retrain.child, arc, export_root)
    return outputs

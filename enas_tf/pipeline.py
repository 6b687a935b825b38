"""The stages of a run in one workdir: search -> derive -> retrain -> export.

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
from enas_tf.errors import WorkdirError
from enas_tf.runtime import files, replicas
from enas_tf.runtime import precision as precision_lib
from enas_tf.runtime import strategy as strategy_lib
from enas_tf.spaces import arc_io, registry

MODES = ("all", "search", "derive", "retrain", "export")
PHASES = ("search", "retrain")  # the phases with their own jit_compile setting
# Keys that fix the shapes of checkpointed variables or the data: a workdir cannot change them.
_STRUCTURAL_KEYS = ("space", "seed", "data", "search.model", "retrain.model", "arc")


def _lookup(config_dict: dict, dotted: str):
    value = config_dict
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def check_workdir_config(config, workdir: str) -> None:
    """Refuses to resume a workdir whose saved config differs in a structural key."""
    path = os.path.join(workdir, "config.json")
    if not os.path.exists(path):
        return
    try:
        saved = files.read_json(path)
    except (OSError, json.JSONDecodeError) as error:
        raise WorkdirError(f"{path} is unreadable ({error}); use a new --workdir") from error
    current = json.loads(config.to_json())
    for key in _STRUCTURAL_KEYS:
        if _lookup(saved, key) != _lookup(current, key):
            raise WorkdirError(
                f"--workdir={workdir} was created with a different config.{key} "
                f"(saved {_lookup(saved, key)!r}, now {_lookup(current, key)!r}). A workdir "
                "resumes one run: use a new --workdir, or the saved config "
                f"(--config={path} is not a .py file; pass the same flags as before)."
            )


def _resolve_arc(config):
    """The arc to retrain when `config.arc` is set (a path or a published name), else None."""
    if not config.arc:
        return None
    arc = arc_io.load_arc(config.arc)
    registry.of(config).check_arc(arc)
    return arc


def run(config: ml_collections.ConfigDict, workdir: str, *, tpu: str = "", mode: str = "all"):
    """Runs the requested stages. Returns a dict of what each stage produced."""
    if mode not in MODES:
        raise config_lib.ConfigError(f"--mode={mode!r}: must be one of {MODES}")
    config_lib.validate(config)
    fixed_arc = _resolve_arc(config)
    check_workdir_config(config, workdir)
    # Loading the data is the last check before the workdir is written: a bad path fails
    # here. (TensorFlow-heavy: imported once the config is valid.)
    from enas_tf.tasks import load_task

    task = load_task(config)
    strategy = strategy_lib.create_strategy(tpu)
    check_replica_batches(config, strategy)
    jit = {phase: strategy_lib.use_jit(config.jit_compile[phase], strategy) for phase in PHASES}
    precision = precision_lib.set_precision(config.precision, strategy)
    chief = replicas.is_chief(strategy)
    arc_path = os.path.join(workdir, "arc.json")
    # Decided before anything is written, so every worker of a cluster decides the same.
    derive_needed = mode == "derive" or (mode == "all" and not os.path.exists(arc_path))
    if chief:
        os.makedirs(workdir, exist_ok=True)
        files.write_json_atomic(os.path.join(workdir, "config.json"), json.loads(config.to_json()))
    logging.info(
        "run: workdir %s, mode %s, %s, %d replica(s) (%s), jit_compile=%s, precision %s",
        workdir,
        mode,
        task.description,
        strategy.num_replicas_in_sync,
        "chief" if chief else "worker",
        jit,
        precision,
    )
    outputs = {}
    if fixed_arc is None and mode in ("all", "search", "derive"):
        from enas_tf.derive import derive
        from enas_tf.search import Search

        search = Search(config, workdir, strategy, task, jit["search"])
        if mode in ("all", "search"):
            logging.info(
                "search: %s space, %.3g architectures to choose from",
                config.space,
                registry.of(config).size(),
            )
            search.run()
        elif not search.restore():
            raise WorkdirError(
                f"--mode=derive: no search checkpoint in {workdir}/search/ckpt; "
                "run --mode=search first"
            )
        if derive_needed:
            outputs["arc"] = derive(config, workdir, search)
        elif mode == "all":
            logging.info("derive: %s exists, keeping it", arc_path)
    if mode in ("all", "retrain", "export"):
        arc = fixed_arc or outputs.get("arc") or _load_derived_arc(arc_path, mode)
        outputs.update(
            _retrain_and_export(config, workdir, strategy, task, arc, jit["retrain"], mode)
        )
    return outputs


def check_replica_batches(config, strategy) -> None:
    """Refuses global batch sizes the strategy's replicas cannot share equally.

    Raises:
      ConfigError: naming the key, its value and the replica count.
    """
    keys = ["search.batch_size", "search.eval_batch_size"]
    if "retrain" in config:
        keys += ["retrain.batch_size", "retrain.eval_batch_size"]
    for key in keys:
        replicas.check_divisible(_lookup(config.to_dict(), key), strategy, key)


def _load_derived_arc(arc_path: str, mode: str):
    if not os.path.exists(arc_path):
        raise WorkdirError(
            f"--mode={mode}: no architecture to retrain: {arc_path} does not exist. Run the "
            "search and derive stages first, or pass --config.arc=path/to/arc.json or a "
            f"published name ({', '.join(arc_io.published_names())})"
        )
    return arc_io.load_arc(arc_path)


def _retrain_and_export(config, workdir, strategy, task, arc, jit, mode):
    from enas_tf.export import latest_version
    from enas_tf.retrain import Retrain

    retrain_arc_path = os.path.join(workdir, "retrain", "arc.json")
    if os.path.exists(retrain_arc_path):
        previous = arc_io.load_arc(retrain_arc_path)
        if previous != arc:
            raise WorkdirError(
                f"{workdir}/retrain was trained on a different arc ({retrain_arc_path}); use a "
                "new --workdir to retrain another architecture"
            )
    elif replicas.is_chief(strategy):
        arc_io.save_arc(arc, retrain_arc_path)
    retrain = Retrain(config, workdir, strategy, task, arc, jit)
    outputs = {}
    if mode in ("all", "retrain"):
        outputs["retrain"] = retrain.run()  # restores the newest checkpoint itself
    elif not os.path.exists(retrain.result_path) or not retrain.restore_latest():
        raise WorkdirError(
            f"--mode=export: no finished retraining in {workdir}/retrain; run --mode=retrain first"
        )
    export_root = os.path.join(workdir, "export")
    version = latest_version(export_root)
    if mode == "all" and version and os.path.exists(os.path.join(export_root, str(version))):
        logging.info("export: %s/%d exists, keeping it", export_root, version)
        outputs["export"] = os.path.join(export_root, str(version))
    elif mode in ("all", "export") and replicas.is_chief(strategy):
        outputs["export"] = task.export(retrain.child, arc, export_root)
    return outputs

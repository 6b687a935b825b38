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

from enas_tf import configs as config_lib
from enas_tf import files, replicas
from enas_tf import precision as precision_lib
from enas_tf import strategy as strategy_lib
from enas_tf.data import images as image_data
from enas_tf.spaces import arc_io

MODES = ("all", "search", "derive", "retrain", "export")
PHASES = ("search", "retrain")  # the phases with their own jit_compile setting
# Keys that fix the shapes of checkpointed variables or the data: a workdir cannot change them.
_STRUCTURAL_KEYS = ("space", "seed", "data", "search.model", "retrain.model", "arc")


class WorkdirError(ValueError):
    """The workdir holds a run that the requested one cannot continue."""


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
    from enas_tf.models import builders  # TensorFlow-heavy; imported once the config is valid

    builders.check_arc(config, arc)
    return arc


def run(config: ml_collections.ConfigDict, workdir: str, *, tpu: str = "", mode: str = "all"):
    """Runs the requested stages. Returns a dict of what each stage produced."""
    if mode not in MODES:
        raise config_lib.ConfigError(f"--mode={mode!r}: must be one of {MODES}")
    config_lib.validate(config)
    fixed_arc = _resolve_arc(config)
    check_workdir_config(config, workdir)
    task, splits, description = _load_task(config)
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
        description,
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
            _retrain_and_export(config, workdir, strategy, splits, arc, jit["retrain"], mode)
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


def _load_task(config):
    """(search task, data splits, one log line) for the config's space; checks batch sizes.

    Loading the data is the last check before the workdir is written: a bad path fails here.
    """
    if config.space == "rnn":
        from enas_tf.data import text as text_data
        from enas_tf.lm_task import LmTask

        splits = text_data.load_text_splits(config.data)
        description = (
            f"{len(splits.train)} train / {len(splits.valid)} valid / {len(splits.test)} test "
            f"tokens, vocabulary {splits.vocab_size} ({splits.source})"
        )
        for deviation in splits.deviations:
            logging.warning("data: %s", deviation)
        return LmTask(config, splits), splits, description
    from enas_tf.image_task import ImageTask

    splits = image_data.load_image_splits(config.data)
    description = (
        f"{len(splits.train_labels)} train / {len(splits.valid_labels)} valid / "
        f"{len(splits.test_labels)} test images of shape {splits.train_images.shape[1:]}"
    )
    return ImageTask(config, splits), splits, description


def _load_derived_arc(arc_path: str, mode: str):
    if not os.path.exists(arc_path):
        raise WorkdirError(
            f"--mode={mode}: no architecture to retrain: {arc_path} does not exist. Run the "
            "search and derive stages first, or pass --config.arc=path/to/arc.json or a "
            f"published name ({', '.join(arc_io.published_names())})"
        )
    return arc_io.load_arc(arc_path)


def _retrain_and_export(config, workdir, strategy, splits, arc, jit, mode):
    from enas_tf.export import export_child, latest_version

    if config.space == "rnn":
        from enas_tf.lm_export import export_lm
        from enas_tf.lm_retrain import LmRetrain as Retrain

        def export(child, export_root):
            return export_lm(child, arc, splits, export_root=export_root)
    else:
        from enas_tf.retrain import Retrain

        def export(child, export_root):
            return export_child(
                child,
                arc,
                image_shape=splits.train_images.shape[1:],
                mean=splits.channel_mean,
                std=splits.channel_std,
                export_root=export_root,
            )

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
    retrain = Retrain(config, workdir, strategy, splits, arc, jit)
    outputs = {}
    if mode in ("all", "retrain"):
        if os.path.exists(retrain.result_path) and int(retrain.epoch.numpy()) == 0:
            retrain.manager.restore(retrain.manager.latest_checkpoint, "retrain")
        outputs["retrain"] = retrain.run()
    else:
        latest = retrain.manager.latest_checkpoint
        if latest is None or not os.path.exists(retrain.result_path):
            raise WorkdirError(
                f"--mode=export: no finished retraining in {workdir}/retrain; "
                "run --mode=retrain first"
            )
        retrain.manager.restore(latest, "retrain")
    export_root = os.path.join(workdir, "export")
    version = latest_version(export_root)
    if mode == "all" and version and os.path.exists(os.path.join(export_root, str(version))):
        logging.info("export: %s/%d exists, keeping it", export_root, version)
        outputs["export"] = os.path.join(export_root, str(version))
    elif mode in ("all", "export") and replicas.is_chief(strategy):
        outputs["export"] = export(retrain.child, export_root)
    return outputs

"""The run's HParams session and its results, for TensorBoard's HParams dashboard.

`tensorboard --logdir runs/` over several workdirs should answer the question a NAS user
asks first: did ENAS beat the random baseline, and by how much across seeds? Each workdir is
one HParams session, written in `workdir/results` (its own run, so that the dashboard's
metric columns are the results below and not every training series): the settings that tell
runs apart (`HPARAM_KEYS`: space, `search.policy`, seed, data, the main search, derive and
retrain settings) and, as the stages finish, one scalar per result under `summary/` (a name
that sorts after `search/`, so the single points come last in the Scalars dashboards):

* the search's last check (`search/checks.json`): `children_<metric>` (the valid score of the
  arcs the run's own policy samples: the controller's for ENAS, uniform arcs for the random
  baseline, so the column compares the two), `children_vs_random_z`, `children_vs_initial_z`
  (the check's margins in standard errors) and `uniform_arcs_<metric>`;
* derive (`candidates.json`): `derived_<metric>` (the derived arc's shared-weight score);
* retraining (`retrain/result.json`): `retrained_test_<metric>`, `retrained_valid_<metric>`,
  `trainable_params`;
* the audit (`audit.json`): `audit_derived_rank`, `audit_beats_random` (the fraction of
  random arcs the derived arc beat when retrained alone), `audit_kendall_tau`,
  `audit_derived_<metric>`, `audit_random_mean_<metric>`.

The names are chosen for their alphabetical order: the HParams dashboard ticks the first five
metric columns by default, and these are, without an audit, the children's score and its two
margins, the derived arc's score and the retrained test score (with an audit, its figures).
Derive's own check margin and the children's multiple of chance stay in `candidates.json`
and the log.

No experiment summary is written: TensorBoard builds the experiment from the sessions of all
runs under its logdir, so runs of different spaces (accuracy and perplexity) and of older
versions sit in one table. Everything here is read back from the workdir's JSON files and
written only where missing, so calling `update` after every stage, and on a rerun, writes
each value once; a run killed between a stage's file and its result gets it on the rerun.
"""

from __future__ import annotations

import math
import os
import time

import ml_collections
import tensorflow as tf
from tensorboard.plugins.custom_scalar import metadata as custom_scalar_metadata
from tensorboard.plugins.custom_scalar import summary as custom_scalar_summary
from tensorboard.plugins.hparams import api as hp
from tensorboard.plugins.hparams import metadata as hparams_metadata

from enas_tf.board import tags
from enas_tf.runtime import files, summaries

# The settings a user varies between runs they compare (the dashboard shows the ones that
# differ first; every key adds a column, so the list stays short).
HPARAM_KEYS = (
    "space",
    "search.policy",
    "seed",
    "arc",
    "data.source",
    "search.epochs",
    "search.batch_size",
    "search.child_sampling",
    "search.model.num_layers",
    "search.model.filters",
    "search.model.num_nodes",
    "search.model.sep_weights",
    "search.controller.baseline",
    "search.controller.reward_batch",
    "search.controller.warmup_epochs",
    "search.controller.train_steps",
    "search.controller.num_aggregate",
    "search.controller.learning_rate",
    "search.controller.entropy_weight",
    "derive.num_candidates",
    "derive.rank_by",
    "retrain.epochs",
    "retrain.model.num_layers",
    "retrain.model.filters",
)


def session_hparams(config: ml_collections.ConfigDict) -> dict:
    """The values of `HPARAM_KEYS` in `config` (keys a space lacks, or left unset, skipped).

    Sequences become their string form: HParams holds numbers, booleans and strings only.
    """
    values = {}
    for key in HPARAM_KEYS:
        node = config
        for part in key.split("."):
            node = node.get(part) if hasattr(node, "get") else None
            if node is None:
                break
        if node is None or node == "" and key == "arc":
            continue
        if not isinstance(node, (bool, int, float, str)):
            node = str(node)
        values[key] = node
    return values


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _read(workdir: str, *parts: str):
    path = os.path.join(workdir, *parts)
    try:
        return files.read_json(path) if os.path.exists(path) else None
    except (OSError, ValueError):
        return None  # a stage rewrites a damaged file; its result then comes on the rerun


def _search_results(workdir: str) -> dict:
    checks = _read(workdir, "search", "checks.json")
    if not checks:
        return {}
    last, metric = checks[-1], checks[-1]["metric"]
    return {
        f"children_{metric}": (last["policy"] or last["random"])["mean"],
        f"uniform_arcs_{metric}": last["random"]["mean"],
        "children_vs_random_z": last.get("policy_minus_random_in_se"),
        "children_vs_initial_z": last.get("policy_minus_initial_in_se"),
    }


def _derive_results(workdir: str) -> dict:
    derived = _read(workdir, "candidates.json")
    if not derived or not derived.get("candidates"):
        return {}
    metric = (derived.get("check") or {}).get("metric")
    best = derived["candidates"][0]
    return {f"derived_{metric}": best.get(f"valid_{metric}")} if metric else {}


def _retrain_results(workdir: str) -> dict:
    result = _read(workdir, "retrain", "result.json")
    if not result:
        return {}
    values = {
        f"retrained_{key}": value
        for key, value in result.items()
        if key.startswith(("valid_", "test_")) and _finite(value)
    }
    values["trainable_params"] = result.get("trainable_params")
    return values


def _audit_results(workdir: str) -> dict:
    audit = _read(workdir, "audit.json")
    if not audit:
        return {}
    metric, random = audit["metric"], audit.get("random") or {}
    derived = next((arc for arc in audit.get("arcs", []) if arc.get("kind") == "derived"), {})
    values = {
        "audit_derived_rank": audit.get("derived_rank"),
        "audit_kendall_tau": audit.get("kendall_tau"),
        f"audit_derived_{metric}": derived.get("valid_score"),
        f"audit_random_mean_{metric}": random.get("mean"),
    }
    if random.get("finite"):
        values["audit_beats_random"] = random.get("beaten", 0) / random["finite"]
    return values


def results(workdir: str) -> dict[str, float]:
    """Every result the workdir's files hold so far, by `summary/` tag (finite values only)."""
    values = {}
    for read in (_search_results, _derive_results, _retrain_results, _audit_results):
        values.update(read(workdir))
    return {tags.result(name): float(v) for name, v in values.items() if _finite(v)}


def update(config: ml_collections.ConfigDict, workdir: str, metric: str) -> list[str]:
    """Writes what `workdir/results` lacks: the session, the layout, new results.

    Call it on the chief only, after the config is written and after every stage.

    Args:
      config: the run's config (its `HPARAM_KEYS` values are the session's hparams).
      workdir: the run's workdir.
      metric: the task's score ("accuracy" or "perplexity"), for the layout's charts.

    Returns:
      The tags written by this call.
    """
    written = summaries.written_tags(os.path.join(workdir, tags.RESULTS_RUN))
    new_results = {tag: v for tag, v in results(workdir).items() if tag not in written}
    session = hparams_metadata.SESSION_START_INFO_TAG not in written
    layout = custom_scalar_metadata.CONFIG_SUMMARY_TAG not in written
    if not (session or layout or new_results):
        return []  # opening a writer would leave an empty event file behind
    writers = summaries.Writers(workdir)
    with writers.as_default(tags.RESULTS_RUN, 0):
        if session:
            hp.hparams(session_hparams(config), start_time_secs=int(time.time()))
        if layout:
            proto = custom_scalar_summary.pb(tags.layout(metric))
            tf.summary.experimental.write_raw_pb(proto.SerializeToString(), step=0)
        for tag, value in new_results.items():
            tf.summary.scalar(tag, value)
    writers.close()
    new = [hparams_metadata.SESSION_START_INFO_TAG] if session else []
    new += [custom_scalar_metadata.CONFIG_SUMMARY_TAG] if layout else []
    return new + list(new_results)

"""The run's TensorBoard tag tree and its custom-scalars layout.

Every series a run writes is named here, so that the tree stays one tree (issue #26):

* `workdir/train`: `search/child/*` (the shared weights' training minibatches: loss, the
  task's metric, gradient norm, learning rate, steps/s) and `search/controller/*` (one point
  per controller phase at the run's child step: mean reward, baseline, entropy with the
  uniform policy's entropy beside it, REINFORCE loss);
* `workdir/valid`: `search/child/<metric>` (after every epoch, a few children of the policy,
  uniform ones under the random baseline, on one validation minibatch: the same tag as the
  training series, so TensorBoard draws train and valid on one card), `search/check/*`
  (each check's means with their mean -+ one standard error, and the z-scores `*_vs_*_z`),
  `search/policy/<panel>` (heatmaps of the policy), `search/sampled_arcs` and
  `search/check/arcs` (text), `derive/arc` and
  `derive/arc_picture`;
* `workdir/retrain/train` and `workdir/retrain/valid`: `retrain/*`;
* `workdir/results`: the HParams session, `summary/*` (one number per result: see
  `enas_tf.board.hparams`) and the custom-scalars layout below.

Test scores are results (one number each), not series: they go to `summary/*` only.
"""

from __future__ import annotations

import math

from tensorboard.plugins.custom_scalar import layout_pb2

TRAIN_RUN, VALID_RUN, RESULTS_RUN = "train", "valid", "results"  # under the workdir
RETRAIN_RUNS = ("train", "valid")  # under workdir/retrain

SAMPLED_ARCS = "search/sampled_arcs"
CHECK_ARCS = "search/check/arcs"
DERIVED_ARC = "derive/arc"
DERIVED_PICTURE = "derive/arc_picture"
UNIFORM_ENTROPY = "search/controller/uniform_entropy"


def child(name: str) -> str:
    """A child-network series of the search (`search/child/loss`, ...)."""
    return f"search/child/{name}"


def controller(name: str) -> str:
    """A controller series (`search/controller/reward`, ...)."""
    return f"search/controller/{name}"


def policy_picture(panel: str) -> str:
    """The heatmap image of one decision panel of the policy."""
    return f"search/policy/{panel}"


def retrain(name: str) -> str:
    """A retraining series (`retrain/loss`, `retrain/accuracy`, `retrain/lr`)."""
    return f"retrain/{name}"


def result(name: str) -> str:
    """A final result, one number (HParams metric)."""
    return f"summary/{name}"


def check_scalars(result) -> dict[str, float]:
    """The scalars of one check (`search.check.CheckResult`): means, SE bands, z-scores.

    Each group of arcs (the policy's samples, uniform arcs, the initial policy's samples)
    gives `search/check/<group>_<metric>` with `..._lower` and `..._upper` at -+ one standard
    error: what the custom-scalars margin chart draws as a band. The differences are
    `search/check/policy_vs_random_z` and `policy_vs_initial_z` (difference of the means over
    its standard error). Under `search.policy=random` only the uniform arcs are scored.
    """
    values = {}
    groups = {"policy": result.policy, "random": result.random, "initial": result.initial}
    if result.policy is None:
        groups["initial"] = None
    for group, scores in groups.items():
        if scores is None:
            continue
        base = f"search/check/{group}_{result.metric}"
        se = scores.se if math.isfinite(scores.se) else 0.0
        values.update({base: scores.mean, f"{base}_lower": scores.mean - se})
        values[f"{base}_upper"] = scores.mean + se
    if result.policy is not None:
        values["search/check/policy_vs_random_z"] = result.advantage_in_se
        if result.initial is not None:
            values["search/check/policy_vs_initial_z"] = result.advantage_over_initial_in_se
    return values


def _multiline(title: str, *patterns: str) -> layout_pb2.Chart:
    return layout_pb2.Chart(
        title=title, multiline=layout_pb2.MultilineChartContent(tag=list(patterns))
    )


def _margin(title: str, metric: str, groups) -> layout_pb2.Chart:
    series = [
        layout_pb2.MarginChartContent.Series(
            value=f"search/check/{group}_{metric}",
            lower=f"search/check/{group}_{metric}_lower",
            upper=f"search/check/{group}_{metric}_upper",
        )
        for group in groups
    ]
    return layout_pb2.Chart(title=title, margin=layout_pb2.MarginChartContent(series=series))


def layout(metric: str) -> layout_pb2.Layout:
    """The custom-scalars layout of a run whose task scores arcs by `metric`.

    The same for every run of a task, so TensorBoard, which merges the layouts of all runs
    under `--logdir` and drops charts it has already seen, shows each chart once.
    """
    search = layout_pb2.Category(
        title="ENAS search",
        chart=[
            _multiline(
                "controller reward and its baseline",
                r"^search/controller/reward$",
                r"^search/controller/baseline$",
            ),
            _margin(
                f"check: policy vs random vs initial policy, valid {metric} (mean -+ 1 SE)",
                metric,
                ("policy", "random", "initial"),
            ),
            _multiline(
                f"child {metric}: train minibatches vs sampled children on valid",
                rf"^search/child/{metric}$",
            ),
            _multiline(
                "controller entropy vs the uniform policy's",
                r"^search/controller/entropy$",
                rf"^{UNIFORM_ENTROPY}$",
            ),
            _multiline(
                "check z-scores: policy ahead of random / of its initial policy",
                r"^search/check/policy_vs_(random|initial)_z$",
            ),
        ],
    )
    retraining = layout_pb2.Category(
        title="retraining",
        chart=[
            _multiline(f"retrain {metric}: train vs valid", rf"^retrain/{metric}$"),
            _multiline("retrain loss", r"^retrain/loss$"),
        ],
    )
    return layout_pb2.Layout(category=[search, retraining])

"""Tests for enas_tf.board.hparams: runs that compare in TensorBoard's HParams dashboard.

The workdirs' result files are written here (the shapes the stages write: checks.json,
candidates.json, retrain/result.json, audit.json), so the tests read what the HParams and
custom-scalars dashboards make of two runs without training anything.
"""

import json
import os

import pytest

from configs import tiny
from enas_tf.board import hparams, tags


def _check(policy, random, initial, z_random, z_initial):
    def scores(mean):
        return None if mean is None else {"mean": mean, "se": 0.01, "sd": 0.04, "scores": [mean]}

    return {
        "epoch": 2,
        "child_step": 20,
        "metric": "accuracy",
        "higher_is_better": True,
        "policy": scores(policy),
        "random": scores(random),
        "initial": scores(initial),
        "policy_minus_random_in_se": z_random,
        "policy_minus_initial_in_se": z_initial,
        "chance": 0.1,
        "summary": "...",
    }


def _write_run(workdir, check, derive_score, test_accuracy):
    os.makedirs(os.path.join(workdir, "search"))
    os.makedirs(os.path.join(workdir, "retrain"))
    with open(os.path.join(workdir, "search", "checks.json"), "w") as f:
        json.dump([_check(0.2, 0.2, 0.2, 0.0, 0.0), check], f)
    with open(os.path.join(workdir, "candidates.json"), "w") as f:
        candidates = [{"rank": 1, "valid_accuracy": derive_score, "arc": {}}]
        json.dump({"check": check, "candidates": candidates}, f)
    with open(os.path.join(workdir, "retrain", "result.json"), "w") as f:
        json.dump({"valid_accuracy": 0.9, "test_accuracy": test_accuracy, "trainable_params": 7}, f)


def test_enas_and_random_runs_compare_in_one_hparams_table(tmp_path, tensorboard_views):
    root = tmp_path / "runs"
    enas, random = tiny.get_config(), tiny.get_config()
    random.search.policy = "random"
    _write_run(str(root / "enas"), _check(0.6, 0.4, 0.45, 5.2, 4.1), 0.64, 0.93)
    _write_run(str(root / "rand"), _check(None, 0.41, None, None, None), 0.5, 0.88)
    for config, name in ((enas, "enas"), (random, "rand")):
        written = hparams.update(config, str(root / name), "accuracy")
        assert tags.result("retrained_test_accuracy") in written

    views = tensorboard_views(str(root))
    experiment = views.experiment()
    infos = {info.name: info for info in experiment.hparam_infos}
    assert {v.string_value for v in infos["search.policy"].domain_discrete.values} == {
        "enas",
        "random",
    }
    assert infos["search.policy"].differs and not infos["seed"].differs
    assert {"space", "seed", "search.epochs", "retrain.epochs"} <= set(infos)
    # The metric columns are the results only, not the training series of other runs.
    metrics = {(m.name.group, m.name.tag) for m in experiment.metric_infos}
    assert all(group == "" and tag.startswith("summary/") for group, tag in metrics)
    groups = {
        next(h for k, h in g.hparams.items() if k == "search.policy").string_value: {
            m.name.tag: m.value for m in g.metric_values
        }
        for g in views.session_groups()
    }
    assert set(groups) == {"enas", "random"}
    assert groups["enas"]["summary/children_accuracy"] == pytest.approx(0.6)
    assert groups["random"]["summary/children_accuracy"] == pytest.approx(0.41)
    assert groups["enas"]["summary/children_vs_random_z"] == pytest.approx(5.2)
    assert "summary/children_vs_random_z" not in groups["random"]  # no policy: no margin
    assert groups["enas"]["summary/uniform_arcs_accuracy"] == pytest.approx(0.4)
    assert groups["enas"]["summary/derived_accuracy"] == pytest.approx(0.64)
    assert groups["random"]["summary/retrained_test_accuracy"] == pytest.approx(0.88)
    assert groups["enas"]["summary/trainable_params"] == 7
    # The five metric columns the dashboard ticks by default (the first five by name).
    first = sorted(m.name.tag for m in experiment.metric_infos)[:5]
    assert first == [
        "summary/children_accuracy",
        "summary/children_vs_initial_z",
        "summary/children_vs_random_z",
        "summary/derived_accuracy",
        "summary/retrained_test_accuracy",
    ]


def test_each_value_is_written_once_and_results_follow_the_stages(tmp_path, tensorboard_views):
    workdir = str(tmp_path / "run")
    config = tiny.get_config()
    first = hparams.update(config, workdir, "accuracy")
    assert len(first) == 2  # the session and the layout; no result file yet
    _write_run(workdir, _check(0.6, 0.4, 0.45, 5.2, 4.1), 0.64, 0.93)
    second = hparams.update(config, workdir, "accuracy")
    assert second and all(tag.startswith("summary/") for tag in second)
    files_before = sorted(os.listdir(os.path.join(workdir, tags.RESULTS_RUN)))
    assert hparams.update(config, workdir, "accuracy") == []
    assert sorted(os.listdir(os.path.join(workdir, tags.RESULTS_RUN))) == files_before
    with open(os.path.join(workdir, "audit.json"), "w") as f:
        json.dump(
            {
                "metric": "accuracy",
                "derived_rank": 2,
                "kendall_tau": 0.5,
                "random": {"finite": 8, "beaten": 6, "mean": 0.8},
                "arcs": [{"kind": "derived", "valid_score": 0.91}],
            },
            f,
        )
    audit = hparams.update(config, workdir, "accuracy")
    assert tags.result("audit_beats_random") in audit
    views = tensorboard_views(workdir)
    assert views.scalars(tags.RESULTS_RUN, "summary/audit_beats_random") == [(0, 0.75)]
    assert views.scalars(tags.RESULTS_RUN, "summary/audit_derived_accuracy")[0][1] == pytest.approx(
        0.91
    )


def test_a_damaged_result_file_is_skipped_not_fatal(tmp_path):
    workdir = tmp_path / "run"
    (workdir / "retrain").mkdir(parents=True)
    (workdir / "retrain" / "result.json").write_text("{not json")
    assert hparams.results(str(workdir)) == {}


def test_session_hparams_hold_only_numbers_booleans_and_strings():
    config = tiny.get_config("space=rnn")
    values = hparams.session_hparams(config)
    assert values["space"] == "rnn" and values["search.policy"] == "enas"
    assert "arc" not in values  # unset: no column of empty strings
    assert "search.model.sep_weights" not in values  # a key the rnn space does not have
    assert all(isinstance(v, (bool, int, float, str)) for v in values.values())

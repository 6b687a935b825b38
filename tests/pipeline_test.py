"""End to end: search -> derive -> retrain -> export on the tiny config, then serve it.

The exported SavedModel is run by `saved_model_cli run` in a separate process (what a user or a
serving check would do) and must predict what the retrained Keras model predicts in memory.
"""

import dataclasses
import json
import os
import shutil
import subprocess
import sys

import ml_collections
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorflow.core.protobuf import saved_model_pb2

from configs import tiny
from enas_tf import config as config_lib
from enas_tf import pipeline
from enas_tf.data import images as image_data
from enas_tf.errors import ArcError, CheckpointError
from enas_tf.retrain import Retrain
from enas_tf.runtime import summaries
from enas_tf.search import reports as search_reports
from enas_tf.spaces import arc_io
from enas_tf.tasks import load_task
from enas_tf.tasks.image_serving import make_serving_fn

# One pytest-xdist worker runs this whole file: its tests share the module-scoped finished runs.
pytestmark = pytest.mark.xdist_group("pipeline")


@pytest.fixture(scope="module", params=["micro", "macro"])
def finished_run(request, tmp_path_factory):
    """Runs the whole tiny pipeline of each search space once for the tests of this module."""
    config = tiny.get_config(f"space={request.param}")
    workdir = str(tmp_path_factory.mktemp(f"run_{request.param}") / "workdir")
    outputs = pipeline.run(config, workdir)
    return config, workdir, outputs


def _saved_model_cli_run(export_dir, tmp_path, input_flag, input_value):
    """Runs `saved_model_cli run` on serving_default in a new process; returns the output dir."""
    cli_out = tmp_path / "cli"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tensorflow.python.tools.saved_model_cli",
            "run",
            "--dir",
            export_dir,
            "--tag_set",
            "serve",
            "--signature_def",
            "serving_default",
            input_flag,
            input_value,
            "--outdir",
            str(cli_out),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    return cli_out


def _tags(event_dir):
    return summaries.written_tags(event_dir)


@pytest.mark.slow
def test_pipeline_writes_every_stage_output(finished_run):
    config, workdir, outputs = finished_run
    assert outputs["export"] == os.path.join(workdir, "export", "1")
    saved = json.load(open(os.path.join(workdir, "config.json")))
    assert saved["space"] == config.space
    assert saved["search"]["model"] == config.search.model.to_dict()

    candidates = json.load(open(os.path.join(workdir, "candidates.json")))["candidates"]
    assert 1 <= len(candidates) <= config.derive.num_candidates
    scores = [c["valid_accuracy"] for c in candidates]
    assert scores == sorted(scores, reverse=True)
    best = arc_io.load_arc(os.path.join(workdir, "arc.json"))
    assert best.to_json() == candidates[0]["arc"]
    assert arc_io.load_arc(os.path.join(outputs["export"], "arc.json")) == best

    result = json.load(open(os.path.join(workdir, "retrain", "result.json")))
    assert 0.0 <= result["test_accuracy"] <= 1.0
    assert result["epochs"] == config.retrain.epochs

    train = _tags(os.path.join(workdir, "train"))
    assert {"search/child/loss", "search/child/accuracy", "search/child/lr"} <= train
    assert {"search/controller/reward", "search/controller/baseline"} <= train
    assert {"search/controller/entropy", "search/controller/uniform_entropy"} <= train
    valid = _tags(os.path.join(workdir, "valid"))
    assert {"search/child/accuracy", "search/sampled_arcs"} <= valid


@pytest.mark.slow
def test_every_epoch_and_derive_check_the_policy_against_random(finished_run):
    config, workdir, _ = finished_run
    checks = json.load(open(os.path.join(workdir, "search", "checks.json")))
    assert [c["epoch"] for c in checks] == list(range(1, config.search.epochs + 1))
    for check in checks:
        for kind in ("policy", "random", "initial"):
            assert len(check[kind]["scores"]) == config.search.check.num_arcs
            assert check[kind]["mean"] == pytest.approx(np.mean(check[kind]["scores"]))
        assert "vs random" in check["summary"] and "vs initial policy" in check["summary"]
    derived = json.load(open(os.path.join(workdir, "candidates.json")))
    assert derived["search_checks"] == checks
    n = len(derived["candidates"])
    # The check's policy scores are the candidates' (in sampling order, the file sorts them).
    assert sorted(derived["check"]["policy"]["scores"]) == sorted(
        c["valid_accuracy"] for c in derived["candidates"]
    )
    assert len(derived["check"]["random"]["scores"]) == n
    assert len(derived["check"]["initial"]["scores"]) == n
    valid = _tags(os.path.join(workdir, "valid"))
    assert {"search/check/policy_accuracy", "search/check/random_accuracy"} <= valid
    assert {"search/check/initial_accuracy", "search/check/policy_vs_random_z"} <= valid
    assert "search/check/policy_vs_initial_z" in valid
    # As TensorBoard files them: every picture under images, the arc as text under text (a
    # shared tag would put both under the plugin of the first summary).
    accumulator = plugin_event_accumulator.EventAccumulator(
        os.path.join(workdir, "valid"), size_guidance={plugin_event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    images = set(accumulator.PluginTagToContent("images"))
    assert "derive/arc_picture" in images
    assert any(t.startswith("search/policy/") for t in images)
    text = set(accumulator.PluginTagToContent("text"))
    assert {"derive/arc", "search/sampled_arcs", "search/check/arcs"} <= text
    picture = accumulator.Tensors("derive/arc_picture")
    assert [len(e.tensor_proto.tensor_shape.dim) for e in picture] == [1]
    with open(os.path.join(workdir, "arc.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert open(os.path.join(workdir, "arc.dot")).read().startswith("digraph")
    # What the command line prints last: the last check, children vs chance, derive's check.
    lines = search_reports.final_evidence(workdir)
    assert lines[0] == f"search check after epoch {config.search.epochs}: {checks[-1]['summary']}"
    chance = 1.0 / image_data.load_image_splits(config.data).num_classes
    assert checks[-1]["chance"] == pytest.approx(chance) and "x chance" in lines[1]
    assert lines[2] == f"derive check: {derived['check']['summary']}"


# One image space and the text space: `policy=random` samples from the controller's program
# of decisions, the same code for every space (tests/random_policy_test.py: valid arcs of
# every space, uniform tokens); what differs between image and text is the task's check.
@pytest.mark.slow
@pytest.mark.parametrize("space", ["micro", "rnn"])
def test_random_search_baseline_runs_the_whole_pipeline(space, tmp_path):
    config = tiny.get_config(f"space={space}")
    config.unlock()
    config.search.policy = "random"
    config.search.check.num_arcs = 3
    config.lock()
    workdir = str(tmp_path / "random")
    outputs = pipeline.run(config, workdir)
    assert os.path.isdir(outputs["export"])
    checks = json.load(open(os.path.join(workdir, "search", "checks.json")))
    assert len(checks) == config.search.epochs
    assert all(c["policy"] is None and len(c["random"]["scores"]) == 3 for c in checks)
    assert all(c["initial"] is None for c in checks)  # no controller, no initial policy
    derived = json.load(open(os.path.join(workdir, "candidates.json")))
    assert derived["policy"] == "random" and derived["check"]["policy"] is None
    # No controller update ran: nothing to log under controller/.
    assert not any(t.startswith("controller") for t in _tags(os.path.join(workdir, "train")))


@pytest.mark.slow
def test_exported_graph_has_no_case_ops_and_no_xla(finished_run):
    _, _, outputs = finished_run
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(outputs["export"], "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    graph = proto.meta_graphs[0].graph_def
    nodes = list(graph.node) + [n for fn in graph.library.function for n in fn.node_def]
    op_types = {node.op for node in nodes}
    assert op_types, "empty graph"
    assert "Conv2D" in op_types or "DepthwiseConv2dNative" in op_types
    assert not op_types & {"Case", "StatelessCase", "XlaLaunch", "_XlaCompile"}
    for fn in graph.library.function:
        assert not fn.attr["_XlaMustCompile"].b, fn.signature.name


@pytest.mark.slow
def test_saved_model_cli_predictions_match_the_in_memory_model(finished_run, tmp_path):
    config, workdir, outputs = finished_run
    splits = image_data.load_image_splits(config.data)
    pixels = splits.test_images[:5].astype(np.float32)
    inputs = tmp_path / "images.npy"
    np.save(inputs, pixels)
    cli_out = _saved_model_cli_run(outputs["export"], tmp_path, "--inputs", f"images={inputs}")
    served_probs = np.load(cli_out / "probabilities.npy")
    served_classes = np.load(cli_out / "classes.npy")

    # The in-memory model: the retrained child restored from its checkpoint.
    arc = arc_io.load_arc(os.path.join(workdir, "arc.json"))
    retrain = Retrain(config, workdir, tf.distribute.get_strategy(), load_task(config), arc, False)
    assert retrain.restore_latest()
    expected = make_serving_fn(retrain.child, splits.channel_mean, splits.channel_std)(
        tf.constant(pixels)
    )
    assert served_probs.shape == (5, splits.num_classes)
    np.testing.assert_allclose(served_probs, expected["probabilities"].numpy(), atol=1e-5)
    np.testing.assert_array_equal(served_classes, expected["classes"].numpy())
    np.testing.assert_allclose(served_probs.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_rerun_on_a_finished_workdir_trains_and_exports_nothing_new(finished_run):
    config, workdir, outputs = finished_run
    ckpt_dir = os.path.join(workdir, "search", "ckpt")
    latest_search = tf.train.latest_checkpoint(ckpt_dir)
    arc_before = open(os.path.join(workdir, "arc.json")).read()
    again = pipeline.run(config, workdir)
    assert again["export"] == outputs["export"]
    assert tf.train.latest_checkpoint(ckpt_dir) == latest_search
    assert open(os.path.join(workdir, "arc.json")).read() == arc_before
    assert sorted(os.listdir(os.path.join(workdir, "export"))) == ["1"]


@pytest.mark.slow
def test_a_rerun_redraws_the_pictures_a_kill_after_arc_json_lost(finished_run, tmp_path):
    config, workdir, _ = finished_run
    if config.space != "macro":
        pytest.skip("the redraw does not depend on the space: one is enough")
    copy = str(tmp_path / "killed")
    shutil.copytree(workdir, copy)
    # What a kill between arc.json and its pictures left (before derive wrote them first).
    os.remove(os.path.join(copy, "arc.png"))
    os.remove(os.path.join(copy, "arc.dot"))
    shutil.rmtree(os.path.join(copy, "valid"))
    arc_before = open(os.path.join(copy, "arc.json")).read()
    again = pipeline.run(config, copy)
    assert "nothing_to_do" not in again  # a stage with a missing output is not finished
    with open(os.path.join(copy, "arc.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert (
        open(os.path.join(copy, "arc.dot")).read() == open(os.path.join(workdir, "arc.dot")).read()
    )
    assert "derive/arc_picture" in _tags(os.path.join(copy, "valid"))
    assert open(os.path.join(copy, "arc.json")).read() == arc_before
    assert sorted(os.listdir(os.path.join(copy, "export"))) == ["1"]
    assert pipeline.run(config, copy)["nothing_to_do"]


@pytest.mark.slow
def test_derive_rank_by_loss_keeps_the_candidate_of_lowest_validation_loss(finished_run, tmp_path):
    config, workdir, _ = finished_run
    if config.space != "micro":
        pytest.skip("derive's ranking does not depend on the space: one is enough")
    copy = str(tmp_path / "by_loss")
    shutil.copytree(os.path.join(workdir, "search"), os.path.join(copy, "search"))
    shutil.copy(os.path.join(workdir, "config.json"), copy)
    by_loss = ml_collections.ConfigDict(config.to_dict())
    by_loss.derive.rank_by = "loss"
    pipeline.run(by_loss, copy, mode="derive")
    derived = json.load(open(os.path.join(copy, "candidates.json")))
    assert derived["ranked_by"] == "valid_loss"
    losses = [c["valid_loss"] for c in derived["candidates"]]
    assert all(np.isfinite(loss) and loss > 0 for loss in losses)
    assert losses == sorted(losses)
    assert (
        arc_io.load_arc(os.path.join(copy, "arc.json")).to_json()
        == (derived["candidates"][0]["arc"])
    )
    # The same candidates and accuracies as the default derive: only the order differs.
    default = json.load(open(os.path.join(workdir, "candidates.json")))
    assert default["ranked_by"] == "valid_accuracy"
    assert sorted((json.dumps(c["arc"]), c["valid_accuracy"]) for c in derived["candidates"]) == (
        sorted((json.dumps(c["arc"]), c["valid_accuracy"]) for c in default["candidates"])
    )


@pytest.mark.slow
def test_a_refused_export_writes_nothing_and_a_later_retrain_of_an_edited_arc_runs(
    finished_run, tmp_path, workdir_digest
):
    config, workdir, _ = finished_run
    if config.space != "macro":
        pytest.skip("the stage checks do not depend on the space: one is enough")
    searched = tmp_path / "searched"
    searched.mkdir()
    shutil.copy(os.path.join(workdir, "arc.json"), searched / "arc.json")
    before = workdir_digest(str(searched))
    with pytest.raises(pipeline.WorkdirError, match="--mode=export: no finished retraining"):
        pipeline.run(config, str(searched), mode="export")
    assert workdir_digest(str(searched)) == before  # no retrain/arc.json, no lock, no config

    # A retrain/arc.json of another arc with nothing trained beside it does not block a retrain.
    other = arc_io.load_arc(os.path.join(workdir, "arc.json"))
    first = other.layers[0]
    op = "avg_pool_3x3" if first.op != "avg_pool_3x3" else "max_pool_3x3"
    edited = dataclasses.replace(
        other, layers=(dataclasses.replace(first, op=op), *other.layers[1:])
    )
    arc_io.save_arc(edited, str(searched / "arc.json"))
    arc_io.save_arc(other, str(searched / "retrain" / "arc.json"))
    pipeline._check_stage_inputs(str(searched), "retrain", None)
    (searched / "retrain" / "result.json").write_text("{}")  # ... but once trained, it does
    with pytest.raises(pipeline.WorkdirError, match="trained on a different arc"):
        pipeline._check_stage_inputs(str(searched), "retrain", None)


@pytest.mark.slow
def test_another_model_size_without_config_json_is_refused_before_writing(
    finished_run, tmp_path, workdir_digest
):
    config, workdir, _ = finished_run
    if config.space != "macro":
        pytest.skip("the shape check does not depend on the space: one is enough")
    lost = str(tmp_path / "lost_config")
    shutil.copytree(os.path.join(workdir, "search"), os.path.join(lost, "search"))
    before = workdir_digest(lost)
    other = tiny.get_config(f"space={config.space}")
    with other.unlocked():
        other.search.model.filters = 12
    with pytest.raises(CheckpointError, match=r"holds a model of another size: .* there but "):
        pipeline.run(other, lost, mode="derive")
    after = workdir_digest(lost)
    after.pop(".lock")  # taken before the check (it names the last run's process)
    assert after == before  # config.json not written with the other size


@pytest.mark.slow
def test_a_different_model_on_the_same_workdir_is_refused(finished_run):
    config, workdir, _ = finished_run
    other = tiny.get_config(f"space={config.space}")
    with other.unlocked():
        other.search.model.filters = 6
    with pytest.raises(pipeline.WorkdirError, match="search.model"):
        pipeline.run(other, workdir)


@pytest.mark.parametrize(
    "override, error, message",
    [
        (("arc", "/no/such/arc.json"), ArcError, "/no/such/arc.json"),
        (("data.source", "/no/such/cifar-10-batches-py"), image_data.DataError, "/no/such"),
        (("search.batch_size", 10_000), config_lib.ConfigError, "search.batch_size"),
    ],
)
def test_bad_input_fails_before_the_workdir_is_touched(tmp_path, override, error, message):
    config = tiny.get_config()
    key, value = override
    with config.unlocked():
        section = config
        *parents, leaf = key.split(".")
        for parent in parents:
            section = section[parent]
        section[leaf] = value
    workdir = tmp_path / "workdir"
    with pytest.raises(error, match=message):
        pipeline.run(config, str(workdir))
    assert not workdir.exists()


def test_a_malformed_arc_file_names_the_file(tmp_path):
    bad = tmp_path / "arc.json"
    bad.write_text('{"normal": "not an arc"}')
    config = tiny.get_config()
    with config.unlocked():
        config.arc = str(bad)
    with pytest.raises(ArcError, match=str(bad)):
        pipeline.run(config, str(tmp_path / "workdir"))
    assert not (tmp_path / "workdir").exists()


def test_an_arc_of_another_space_is_refused_before_the_workdir_is_touched(tmp_path):
    config = tiny.get_config("space=macro")
    with config.unlocked():
        config.arc = "enas_micro_final"
    with pytest.raises(ArcError, match=r"'micro' architecture but config.space='macro'"):
        pipeline.run(config, str(tmp_path / "workdir"))
    assert not (tmp_path / "workdir").exists()


@pytest.mark.slow
def test_rnn_space_runs_the_whole_pipeline_and_serves_words(tmp_path):
    config = tiny.get_config("space=rnn")
    workdir = str(tmp_path / "workdir")
    outputs = pipeline.run(config, workdir)
    arc = arc_io.load_arc(os.path.join(workdir, "arc.json"))
    assert arc.space == "rnn" and arc.num_nodes == config.search.model.num_nodes
    candidates = json.load(open(os.path.join(workdir, "candidates.json")))["candidates"]
    perplexities = [c["valid_perplexity"] for c in candidates]
    assert perplexities == sorted(perplexities)  # lower is better: the best comes first
    result = outputs["retrain"]
    assert 1.0 < result["test_perplexity"] < 10_000 and result["epochs"] == 1
    train = _tags(os.path.join(workdir, "train"))
    assert {"search/child/perplexity", "search/controller/reward"} <= train
    assert "search/child/perplexity" in _tags(os.path.join(workdir, "valid"))

    # Served in a separate process, from words (one out of the vocabulary -> <eos>/<unk>).
    from enas_tf.data import text as text_data

    splits = text_data.load_text_splits(config.data)
    words = [[splits.vocab[5], splits.vocab[9], "not-a-word"]]
    cli_out = _saved_model_cli_run(outputs["export"], tmp_path, "--input_exprs", f"words={words!r}")
    served = np.load(cli_out / "log_probs.npy")
    assert served.shape == (1, 3, splits.vocab_size)
    np.testing.assert_allclose(np.exp(served).sum(axis=-1), 1.0, atol=1e-4)

    retrain = Retrain(config, workdir, tf.distribute.get_strategy(), load_task(config), arc, False)
    assert retrain.restore_latest()
    ids = [[5, 9, splits.eos_id if splits.unk_id is None else splits.unk_id]]
    logits, _ = retrain.child(tf.constant(ids), retrain.child.zero_state(1), training=False)
    np.testing.assert_allclose(served, tf.nn.log_softmax(logits).numpy(), atol=1e-4)


# The image spaces' whole pipeline on two replicas is tests/own_data_test.py's macro run, whose
# every batch is streamed from TFRecord shards (one two-replica image pipeline for both, issue
# #27); in-memory image batches on two replicas: tests/search/search_test.py and
# tests/retrain_test.py.
@pytest.mark.slow
def test_whole_rnn_pipeline_on_two_replicas(tmp_path, monkeypatch, two_replica_strategy):
    """Search, derive, retrain and export under MirroredStrategy (2 logical CPUs)."""
    from enas_tf.runtime import strategy as strategy_lib

    monkeypatch.setattr(
        strategy_lib, "create_strategy", lambda tpu, cluster_wait_seconds: two_replica_strategy
    )
    workdir = str(tmp_path / "workdir")
    outputs = pipeline.run(tiny.get_config("space=rnn"), workdir)
    assert 1.0 < outputs["retrain"]["test_perplexity"] < 10_000
    assert os.path.exists(os.path.join(workdir, "arc.json"))
    served = tf.saved_model.load(outputs["export"])
    assert "serving_default" in served.signatures


@pytest.mark.slow
def test_tensorboard_shows_one_tag_tree_an_hparams_session_and_the_layout(
    finished_run, tensorboard_views
):
    """What TensorBoard's own loaders make of a finished run (issue #26)."""
    config, workdir, _ = finished_run
    views = tensorboard_views(workdir)
    assert {"train", "valid", "results", "retrain/train", "retrain/valid"} <= views.runs()
    child = {f"search/child/{name}" for name in ("loss", "accuracy", "grad_norm", "lr")}
    controller = {
        f"search/controller/{name}"
        for name in ("reward", "baseline", "entropy", "uniform_entropy", "loss")
    }
    check = {
        f"search/check/{group}_accuracy{band}"
        for group in ("policy", "random", "initial")
        for band in ("", "_lower", "_upper")
    } | {"search/check/policy_vs_random_z", "search/check/policy_vs_initial_z"}
    # Exactly these series (steps/s appears once a log window held timed steps): one tree,
    # no copies (the old sampled_child/accuracy was check/policy_mean), no bare tags.
    train = views.tags("train", "scalars")
    assert train - {"search/child/steps_per_second"} == child | controller
    assert views.tags("valid", "scalars") == {"search/child/accuracy"} | check
    assert views.tags("retrain/train", "scalars") == {
        "retrain/loss",
        "retrain/accuracy",
        "retrain/lr",
    }
    assert views.tags("retrain/valid", "scalars") == {"retrain/accuracy"}
    assert all(tag.startswith("summary/") for tag in views.tags("results", "scalars"))
    assert "search/check/policy_vs_random_z" in views.tags("valid", "scalars")
    # The learning rate is the step's own: no jump back to lr_max at the last point.
    lr = [value for _, value in views.scalars("retrain/train", "retrain/lr")]
    assert lr[-1] <= lr[0]
    assert not views.tags("valid", "histograms") and not views.tags("train", "histograms")
    # Text: markdown tables with op names.
    text = views.multiplexer.Tensors("valid", "derive/arc")[-1]
    markdown = tf.make_ndarray(text.tensor_proto).item().decode()
    assert "|" in markdown and "Candidates" in markdown and "Check" in markdown

    experiment = views.experiment()
    hparams = {info.name for info in experiment.hparam_infos}
    assert {"space", "search.policy", "seed", "search.epochs", "retrain.epochs"} <= hparams
    metrics = {m.name.tag for m in experiment.metric_infos}
    assert {
        "summary/children_accuracy",
        "summary/children_vs_random_z",
        "summary/derived_accuracy",
        "summary/retrained_test_accuracy",
    } <= metrics
    (group,) = views.session_groups()
    values = {m.name.tag: m.value for m in group.metric_values}
    result = json.load(open(os.path.join(workdir, "retrain", "result.json")))
    assert values["summary/retrained_test_accuracy"] == pytest.approx(result["test_accuracy"])

    layout = views.layout()
    titles = [chart["title"] for category in layout["category"] for chart in category["chart"]]
    assert "controller reward and its baseline" in titles
    assert any(title.startswith("check: policy vs random") for title in titles)

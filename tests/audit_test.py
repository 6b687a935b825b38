"""Tests for enas_tf.audit (`--mode=audit`) on the tiny configs, in process.

One tiny micro search and derive is shared by the module; the audit on it is stopped after its
first arc (by a signal recorded between two arcs, as SIGTERM would be), resumed without
retraining that arc, checked field by field, and rerun to do nothing. The rnn space's audit
runs once, for its lower-is-better perplexity. Ranks, ties and verdicts on hand-made scores
are tests/audit_report_test.py's.
"""

import json
import os
import signal

import pytest

from configs import tiny
from enas_tf import audit, pipeline
from enas_tf.errors import WorkdirError
from enas_tf.runtime import interrupts
from enas_tf.search import ranking
from enas_tf.spaces import arc_io

pytestmark = pytest.mark.xdist_group("audit")


def _config(space="micro", **retrain):
    config = tiny.get_config(f"space={space}")
    with config.unlocked():
        config.retrain.update(retrain)
    return config


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """A finished tiny micro search and derive (no retrain: the audit does not need one).

    retrain.epochs is 2 and audit.epochs 1, so the arcs' results show which budget they had.
    """
    config = _config(epochs=2)
    workdir = str(tmp_path_factory.mktemp("audit") / "run")
    pipeline.run(config, workdir, mode="search")
    pipeline.run(config, workdir, mode="derive")
    return config, workdir


def _without_lock(digest: dict) -> dict:
    digest.pop(".lock", None)  # names the last run's process
    return digest


def test_without_a_finished_search_the_audit_says_what_to_run_and_touches_nothing(tmp_path):
    workdir = str(tmp_path / "empty")
    with pytest.raises(WorkdirError, match=r"no finished search and derive in .*--mode=search"):
        pipeline.run(_config(), workdir, mode="audit")
    assert not os.path.exists(workdir)


def test_an_audit_of_a_given_arc_is_refused(tmp_path):
    config = _config()
    with config.unlocked():
        config.arc = "enas_micro_final"
    with pytest.raises(WorkdirError, match=r"config.arc='enas_micro_final'"):
        pipeline.run(config, str(tmp_path / "w"), mode="audit")
    assert not os.path.exists(tmp_path / "w")


@pytest.mark.slow
def test_an_interrupted_audit_resumes_without_retraining_and_a_finished_one_does_nothing(
    searched, monkeypatch, workdir_digest
):
    config, workdir = searched
    retrained, original = [], pipeline.retrain_arc

    def retrain_then_signal(arc_config, directory, *args):
        retrained.append(os.path.basename(directory))
        result = original(arc_config, directory, *args)
        monkeypatch.setattr(interrupts, "_received", signal.SIGTERM)  # arrives mid-arc
        return result

    monkeypatch.setattr(pipeline, "retrain_arc", retrain_then_signal)
    with pytest.raises(interrupts.Interrupted, match=r"^interrupted at audit after 1 of 4 arcs"):
        pipeline.run(config, workdir, mode="audit")
    assert retrained == ["derived"]
    assert not os.path.exists(os.path.join(workdir, "audit.json"))
    assert os.path.exists(os.path.join(workdir, "audit", "shared_scores.json"))

    interrupts.reset()

    def counted(arc_config, directory, *args):
        retrained.append(os.path.basename(directory))
        return original(arc_config, directory, *args)

    def no_supernet(*args, **kwargs):
        raise AssertionError("the resumed audit scored the arcs again")

    monkeypatch.setattr(pipeline, "retrain_arc", counted)
    monkeypatch.setattr("enas_tf.search.Search", no_supernet)
    outputs = pipeline.run(config, workdir, mode="audit")
    assert retrained == ["derived", "candidate_2", "random_1", "random_2"]  # each arc once

    with open(os.path.join(workdir, "audit.json")) as f:
        payload = json.load(f)
    assert payload == json.loads(json.dumps(outputs["audit"]))
    arcs = {arc["name"]: arc for arc in payload["arcs"]}
    assert [arc["kind"] for arc in payload["arcs"]] == ["derived", "candidate", "random", "random"]
    assert arc_io.arc_from_json(arcs["derived"]["arc"]) == arc_io.load_arc(
        os.path.join(workdir, "arc.json")
    )
    with open(os.path.join(workdir, "candidates.json")) as f:
        candidates = json.load(f)["candidates"]
    assert arcs["candidate_2"]["arc"] == candidates[1]["arc"]
    assert arcs["candidate_2"]["derive_score"] == candidates[1]["valid_accuracy"]
    for name, arc in arcs.items():
        with open(os.path.join(workdir, "audit", name, "retrain", "result.json")) as f:
            result = json.load(f)
        assert result["epochs"] == config.audit.epochs == 1, name  # the audit's budget
        assert arc["valid_score"] == result["valid_accuracy"], name
        assert arc["test_score"] == result["test_accuracy"], name
        assert 0.0 <= arc["shared_score"] <= 1.0, name
        assert arc["directory"] == os.path.join("audit", name)
    better = sum(a["valid_score"] > arcs["derived"]["valid_score"] for a in arcs.values())
    assert payload["derived_rank"] == arcs["derived"]["rank"] == 1 + better
    beaten = sum(
        arcs[n]["valid_score"] < arcs["derived"]["valid_score"] for n in arcs if "random" in n
    )
    assert payload["random"]["beaten"] == beaten
    shared = [arc["shared_score"] for arc in payload["arcs"]]
    valid = [arc["valid_score"] for arc in payload["arcs"]]
    if payload["kendall_tau"] is not None:
        assert payload["kendall_tau"] == pytest.approx(ranking.kendall_tau(shared, valid))
    assert payload["tau_arcs"] == 4 and payload["diverged"] == 0
    assert payload["verdict"].startswith("audit: ") and "rank" in payload["verdict"]
    assert payload["settings"]["num_random"] == 2
    with open(os.path.join(workdir, "audit.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"

    before = _without_lock(workdir_digest(workdir))
    again = pipeline.run(config, workdir, mode="audit")
    assert again["nothing_to_do"] and again["audit"] == payload
    assert retrained == ["derived", "candidate_2", "random_1", "random_2"]
    assert _without_lock(workdir_digest(workdir)) == before

    # another budget is refused before anything is written, naming what to delete
    longer = _config(epochs=2)
    with longer.unlocked():
        longer.audit.epochs = 2
    with pytest.raises(WorkdirError, match=r"retrain\.epochs=1; this audit asks for 2.*delete"):
        pipeline.run(longer, workdir, mode="audit")
    assert _without_lock(workdir_digest(workdir)) == before


def _bare_copy(workdir, root):
    """What `audit.prepare` reads of a searched workdir: arc.json, candidates.json, a checkpoint
    (an empty stand-in: the plan does not open it)."""
    os.makedirs(root / "search" / "ckpt")
    (root / "search" / "ckpt" / "ckpt-1.index").write_text("")
    for name in ("arc.json", "candidates.json"):
        with open(os.path.join(workdir, name)) as f:
            (root / name).write_text(f.read())
    return str(root)


@pytest.mark.slow
def test_the_plan_is_derived_then_candidates_then_random_arcs_of_the_runs_seed(searched, tmp_path):
    config, workdir = searched
    copy = _bare_copy(workdir, tmp_path / "copy")
    plan = audit.prepare(config, copy)
    assert [arc.name for arc in plan.arcs] == ["derived", "candidate_2", "random_1", "random_2"]
    assert audit.prepare(config, copy).arcs == plan.arcs
    other = _config(epochs=2)
    with other.unlocked():
        other.seed = 7
    randoms = [arc.arc for arc in audit.prepare(other, copy).arcs if arc.kind == "random"]
    assert randoms != [arc.arc for arc in plan.arcs if arc.kind == "random"]


@pytest.mark.slow
def test_audit_directories_of_another_search_are_refused_before_anything_runs(searched, tmp_path):
    config, workdir = searched
    copy = _bare_copy(workdir, tmp_path / "copy")
    with open(os.path.join(workdir, "candidates.json")) as f:
        other = arc_io.arc_from_json(json.load(f)["candidates"][1]["arc"])
    arc_io.save_arc(other, os.path.join(copy, "audit", "derived", "retrain", "arc.json"))
    with pytest.raises(WorkdirError, match=r"audit/derived retrained another arc .*delete"):
        audit.prepare(config, copy)


@pytest.mark.slow
def test_the_rnn_audit_ranks_the_lowest_perplexity_first(tmp_path):
    config = _config("rnn")
    workdir = str(tmp_path / "rnn")
    pipeline.run(config, workdir, mode="search")
    pipeline.run(config, workdir, mode="derive")
    payload = pipeline.run(config, workdir, mode="audit")["audit"]
    assert payload["metric"] == "perplexity" and payload["higher_is_better"] is False
    finite = [arc for arc in payload["arcs"] if not arc["diverged"]]
    assert min(finite, key=lambda arc: arc["valid_score"])["rank"] == 1
    for a in finite:
        assert a["shared_score"] > 1.0 and a["valid_score"] > 1.0  # perplexities
        for b in finite:
            if a["valid_score"] < b["valid_score"]:
                assert a["rank"] < b["rank"], (a, b)

"""Tests for enas_tf.spaces.micro and enas_tf.spaces.arc_io."""

import itertools

import numpy as np
import pytest

from enas_tf.spaces import arc_io, decisions, micro

NORMAL = "0 2 0 0 0 4 0 1 0 4 1 1 1 0 0 1 0 2 1 1"
REDUCTION = "1 0 1 0 0 3 0 2 1 1 3 1 1 0 0 4 0 3 1 1"


def test_published_arc_loads_and_reencodes_unchanged():
    arc = arc_io.load_arc("enas_micro_final")
    assert arc.to_string() == (NORMAL, REDUCTION)
    assert arc.normal.nodes[0] == micro.MicroNode(0, "avg_pool_3x3", 0, "sep_conv_3x3")
    assert arc.reduction.nodes[1] == micro.MicroNode(0, "max_pool_3x3", 0, "avg_pool_3x3")


@pytest.mark.parametrize("seed", range(5))
def test_round_trips(seed):
    arc = micro.sample_random_arc(5, np.random.default_rng(seed))
    assert micro.MicroArc.from_tokens(arc.to_tokens(), 5) == arc
    assert micro.MicroArc.from_strings(*arc.to_string()) == arc
    assert micro.MicroArc.from_json(arc.to_json()) == arc


def test_arc_json_file_round_trip_and_errors(tmp_path):
    arc = micro.sample_random_arc(3, np.random.default_rng(1))
    path = tmp_path / "arc.json"
    arc_io.save_arc(arc, str(path))
    assert arc_io.load_arc(str(path)) == arc
    assert [p.name for p in tmp_path.iterdir()] == ["arc.json"]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(micro.ArcError, match="bad.json"):
        arc_io.load_arc(str(bad))
    with pytest.raises(micro.ArcError, match="enas_micro_final"):
        arc_io.load_arc("no_such_arc")


@pytest.mark.parametrize(
    "tokens,match",
    [
        ([0, 0, 5, 0], r"normal cell, node 2, input_b=5: must be in \[0, 1\]"),
        ([0, 9, 0, 0], r"token 1 \(normal cell, node 2, op_a\) = 9"),
    ],
)
def test_invalid_tokens_name_the_position(tokens, match):
    with pytest.raises(micro.ArcError, match=match):
        micro.MicroArc.from_tokens(tokens + [0, 0, 0, 0], 1)


def test_from_json_checks_space_and_version():
    payload = micro.PUBLISHED["enas_micro_final"].to_json()
    with pytest.raises(micro.ArcError, match="version"):
        micro.MicroArc.from_json({**payload, "version": 2})
    with pytest.raises(micro.ArcError, match="space"):
        micro.MicroArc.from_json({**payload, "space": "macro"})


def test_loose_ends():
    cell = micro.MicroCell(
        (
            micro.MicroNode(0, "identity", 1, "identity"),
            micro.MicroNode(2, "identity", 0, "identity"),
        )
    )
    assert cell.loose_ends() == (3,)


def test_space_size_matches_paper_and_enumeration():
    assert f"{micro.paper_space_size(5):.1e}" == "1.3e+11"
    # By definition with one computed node: (2 inputs x 5 ops)^2 per cell, two cells.
    per_node = [(i, o) for i in range(2) for o in range(5)]
    arcs = {
        micro.MicroArc.from_tokens([*a, *b, *c, *d], 1)
        for a, b, c, d in itertools.product(per_node, repeat=4)
    }
    count = len(arcs)
    assert count == micro.search_space_size(1) == 10**4


def test_program_emits_exactly_the_tokens():
    program = micro.decision_program(5)
    assert decisions.num_tokens(program) == 40
    kinds = [type(s).__name__ for s in program if not isinstance(s, decisions.AnchorStep)]
    assert kinds[:4] == ["IndexChoice", "OpChoice", "IndexChoice", "OpChoice"]

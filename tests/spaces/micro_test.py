"""Tests for the micro search space (enas_tf.spaces.micro) and arc.json I/O (arc_io)."""

import collections
import itertools
import json
import math
import os

import numpy as np
import pytest

from enas_tf.errors import ArcError, ArcFileError
from enas_tf.spaces import arc_io, decisions, micro

# scripts/cifar10_micro_final.sh of the original code (as quoted in ENAS_FACTS.md).
NORMAL = "0 2 0 0 0 4 0 1 0 4 1 1 1 0 0 1 0 2 1 1"
REDUCTION = "1 0 1 0 0 3 0 2 1 1 3 1 1 0 0 4 0 3 1 1"


def _node(a, op_a, b, op_b):
    return micro.MicroNode(a, op_a, b, op_b)


def _random_arcs(num_nodes, count, seed=0):
    rng = np.random.default_rng(seed)
    return [micro.sample_random_arc(num_nodes, rng) for _ in range(count)]


# --- The published arc --------------------------------------------------------------------------


def test_op_ids_are_the_original_codes():
    assert micro.OPS == (
        "sep_conv_3x3",
        "sep_conv_5x5",
        "avg_pool_3x3",
        "max_pool_3x3",
        "identity",
    )


def test_published_arc_reencodes_to_the_original_strings():
    arc = arc_io.load_arc("enas_micro_final")
    assert arc is micro.PUBLISHED["enas_micro_final"]
    assert arc_io.published_names() == (
        "enas_lm_cell",
        "enas_macro_final",
        "enas_micro_final",
        "enas_ptb_paper",
    )
    assert arc.to_string() == (NORMAL, REDUCTION)
    assert arc.to_flat_string() == f"{NORMAL} {REDUCTION}"
    assert arc.to_tokens() == [int(t) for t in f"{NORMAL} {REDUCTION}".split()]
    assert arc.num_nodes == 5
    # Hand-decoded: normal "0 2 0 0" = avg_pool(h0) + sep3(h0); "0 2 1 1" = avg_pool(h0) + sep5(h1).
    assert arc.normal.nodes[0] == _node(0, "avg_pool_3x3", 0, "sep_conv_3x3")
    assert arc.normal.nodes[4] == _node(0, "avg_pool_3x3", 1, "sep_conv_5x5")
    # Reduction node 4 "1 1 3 1" = sep5(h1) + sep5(h3): the only use of a computed node.
    assert arc.reduction.nodes[2] == _node(1, "sep_conv_5x5", 3, "sep_conv_5x5")
    assert arc.reduction.nodes[3] == _node(1, "sep_conv_3x3", 0, "identity")
    assert arc.normal.loose_ends() == (2, 3, 4, 5, 6)
    assert arc.reduction.loose_ends() == (2, 4, 5, 6)


# --- Round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("num_nodes", [1, 2, 5])
def test_round_trips(num_nodes):
    arcs = _random_arcs(num_nodes, 20, seed=num_nodes) + (
        [micro.PUBLISHED["enas_micro_final"]] if num_nodes == 5 else []
    )
    for arc in arcs:
        tokens = arc.to_tokens()
        assert len(tokens) == 8 * num_nodes and all(type(t) is int for t in tokens)
        assert micro.MicroArc.from_tokens(tokens, num_nodes) == arc
        assert micro.MicroArc.from_tokens(tokens) == arc  # num_nodes inferred
        assert micro.MicroArc.from_tokens(np.array(tokens, np.int32), num_nodes) == arc
        assert micro.MicroArc.from_strings(*arc.to_string()) == arc
        assert micro.MicroArc.from_flat_string(arc.to_flat_string(), num_nodes) == arc
        assert micro.MicroArc.from_json(arc.to_json()) == arc
        assert micro.MicroArc.from_json(json.loads(json.dumps(arc.to_json()))) == arc
        normal, reduction = micro.split_tokens(tokens, num_nodes)
        assert micro.MicroCell.from_tokens(normal, "normal") == arc.normal
        assert micro.MicroCell.from_string(arc.reduction.to_string()) == arc.reduction
        assert reduction == arc.reduction.to_tokens()


def test_arcs_are_values():
    arc = micro.PUBLISHED["enas_micro_final"]
    copy = micro.MicroArc.from_tokens(np.array(arc.to_tokens(), np.int64))
    assert copy == arc and hash(copy) == hash(arc) and {arc: 1}[copy] == 1
    assert type(copy.normal.nodes[0].input_a) is int  # numpy ints normalised
    with pytest.raises(AttributeError):
        arc.normal = arc.reduction  # frozen
    assert str(arc) == f"normal [{NORMAL}] reduction [{REDUCTION}]"


def test_json_is_readable_and_may_hold_only_the_strings():
    arc = micro.PUBLISHED["enas_micro_final"]
    data = arc.to_json()
    assert data["space"] == "micro" and data["version"] == micro.MicroArc.VERSION == 1
    assert (data["normal_string"], data["reduction_string"]) == (NORMAL, REDUCTION)
    assert data["normal"][0] == {
        "node": 2,
        "input_a": 0,
        "op_a": "avg_pool_3x3",
        "input_b": 0,
        "op_b": "sep_conv_3x3",
    }
    strings_only = {"space": "micro", "version": 1, "normal_string": NORMAL}
    strings_only["reduction_string"] = REDUCTION
    assert micro.MicroArc.from_json(strings_only) == arc
    named_only = {k: v for k, v in data.items() if not k.endswith("_string")}
    assert micro.MicroArc.from_json(named_only) == arc


def test_json_rejects_disagreeing_strings():
    data = micro.PUBLISHED["enas_micro_final"].to_json()
    data["normal_string"] = "0 2 0 0 0 4 0 1 0 4 1 1 1 0 0 1 0 2 1 2"  # last op edited
    with pytest.raises(
        ArcError, match="normal_string disagrees with the named normal nodes .*1 2.* vs the nodes"
    ):
        micro.MicroArc.from_json(data)


# --- Validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell,position,field,value,match",
    [
        ("normal", 0, "input_a", 2, r"normal cell, node 2, input_a=2: must be in \[0, 1\]"),
        ("reduction", 2, "input_b", 7, r"reduction cell, node 4, input_b=7: must be in \[0, 3\] "),
        ("normal", 4, "input_b", -1, r"normal cell, node 6, input_b=-1: must be in \[0, 5\]"),
        ("normal", 3, "op_a", "conv_3x3", r"normal cell, node 5, op_a='conv_3x3': must be one of"),
        ("reduction", 1, "op_b", 4, r"reduction cell, node 3, op_b=4: must be one of sep_conv"),
        ("reduction", 0, "input_a", True, r"reduction cell, node 2, input_a=True: must be an int"),
    ],
)
def test_json_field_errors_name_cell_node_field_and_range(cell, position, field, value, match):
    data = micro.PUBLISHED["enas_micro_final"].to_json()
    del data["normal_string"], data["reduction_string"]
    data[cell][position][field] = value
    with pytest.raises(ArcError, match=match):
        micro.MicroArc.from_json(data)


@pytest.mark.parametrize(
    "position,value,match",
    [
        (0, 2, r"token 0 \(normal cell, node 2, input_a\) = 2: must be in \[0, 1\] \(0 and 1 are"),
        (
            13,
            9,
            r"token 13 \(normal cell, node 5, op_a\) = 9: must be an op id in \[0, 4\] \(0 sep",
        ),
        (15, 5, r"token 15 \(normal cell, node 5, op_b\) = 5: must be an op id in \[0, 4\]"),
        (30, 6, r"token 30 \(reduction cell, node 4, input_b\) = 6: must be in \[0, 3\]"),
        (39, -1, r"token 39 \(reduction cell, node 6, op_b\) = -1: must be an op id"),
        (4, 1.0, r"token 4 \(normal cell, node 3, input_a\) = 1.0: must be an integer in \[0, 2\]"),
        (5, "1", r"token 5 \(normal cell, node 3, op_a\) = '1': must be an op id"),
    ],
)
def test_token_errors_name_the_position(position, value, match):
    tokens = micro.PUBLISHED["enas_micro_final"].to_tokens()
    tokens[position] = value
    with pytest.raises(ArcError, match=match):
        micro.MicroArc.from_tokens(tokens, 5)
    assert not micro.tokens_are_valid(tokens, 5)


def test_token_length_errors():
    tokens = micro.PUBLISHED["enas_micro_final"].to_tokens()
    assert micro.tokens_are_valid(tokens, 5)
    with pytest.raises(ArcError, match=r"expected 32 tokens for num_nodes=4 .* got 40"):
        micro.MicroArc.from_tokens(tokens, 4)
    with pytest.raises(ArcError, match="got 39 tokens: a micro arc has 8 per computed node"):
        micro.MicroArc.from_tokens(tokens[:-1])
    with pytest.raises(ArcError, match="num_nodes=0: must be an integer >= 1"):
        micro.MicroArc.from_tokens([], 0)
    with pytest.raises(ArcError, match="1-D"):
        micro.MicroArc.from_tokens(np.zeros([2, 8], np.int32))
    with pytest.raises(ArcError, match="sequence of integers"):
        micro.MicroArc.from_tokens("0 0 0 0 0 0 0 0")


def test_string_errors():
    with pytest.raises(ArcError, match=r"reduction string, number 2 = 'x': not an integer"):
        micro.MicroArc.from_strings("0 0 0 0", "0 0 x 0")
    with pytest.raises(ArcError, match="normal string has 3 numbers: needs 4 per computed node"):
        micro.MicroArc.from_strings("0 0 0", "0 0 0 0")
    with pytest.raises(
        ArcError,
        match=r"normal string, number 6 \(normal cell, node 3, input_b\) = 3: must be in \[0, 2\]",
    ):
        micro.MicroArc.from_strings("0 0 0 0 0 0 3 0", "0 0 0 0 0 0 0 0")
    with pytest.raises(ArcError, match="normal cell has 2 computed nodes but reduction cell has 1"):
        micro.MicroArc.from_strings("0 0 0 0 0 0 0 0", "0 0 0 0")


def test_objects_cannot_be_built_invalid():
    with pytest.raises(ArcError, match=r"^node 3, input_b=3: must be in \[0, 2\]"):
        micro.MicroCell((_node(0, "identity", 1, "identity"), _node(0, "identity", 3, "identity")))
    with pytest.raises(ArcError, match="op_b='conv': must be one of sep_conv_3x3, sep_conv_5x5"):
        _node(0, "identity", 1, "conv")
    with pytest.raises(ArcError, match="input_a=-1: must be an integer node index >= 0"):
        _node(-1, "identity", 1, "identity")
    with pytest.raises(ArcError, match="cell has no computed nodes"):
        micro.MicroCell(())
    one = micro.MicroCell((_node(0, "identity", 1, "identity"),))
    two = micro.MicroCell(
        [_node(0, "identity", 1, "identity"), _node(2, "identity", 1, "identity")]
    )
    assert isinstance(two.nodes, tuple)  # lists are converted so cells stay hashable
    with pytest.raises(ArcError, match="normal cell has 1 computed nodes but reduction cell has 2"):
        micro.MicroArc(normal=one, reduction=two)
    with pytest.raises(ArcError, match="reduction cell: expected a MicroCell, got list"):
        micro.MicroArc(normal=one, reduction=[1, 2])
    assert isinstance(ArcError("x"), ValueError)


def test_json_structure_errors():
    data = micro.PUBLISHED["enas_micro_final"].to_json()
    del data["normal_string"], data["reduction_string"]
    missing = json.loads(json.dumps(data))
    del missing["reduction"][3]["op_b"]
    with pytest.raises(ArcError, match="reduction cell, node 5: missing field 'op_b'"):
        micro.MicroArc.from_json(missing)
    typo = json.loads(json.dumps(data))
    typo["normal"][0]["input_c"] = typo["normal"][0].pop("input_b")
    with pytest.raises(ArcError, match=r"normal cell, node 2: unknown field\(s\) \['input_c'\]"):
        micro.MicroArc.from_json(typo)
    swapped = json.loads(json.dumps(data))
    swapped["normal"][0], swapped["normal"][1] = swapped["normal"][1], swapped["normal"][0]
    with pytest.raises(ArcError, match="entry 0 says node=3 but entry 0 is node 2"):
        micro.MicroArc.from_json(swapped)
    with pytest.raises(ArcError, match="num_nodes=4 but the cells have 5"):
        micro.MicroArc.from_json({**data, "num_nodes": 4})
    with pytest.raises(ArcError, match="missing 'reduction'"):
        micro.MicroArc.from_json({k: v for k, v in data.items() if k != "reduction"})


def test_from_json_checks_space_and_version():
    data = micro.PUBLISHED["enas_micro_final"].to_json()
    with pytest.raises(ArcError, match=r"version=2: this code reads micro arcs of version 1"):
        micro.MicroArc.from_json({**data, "version": 2})
    with pytest.raises(ArcError, match=r"space='macro': this reader handles space='micro'"):
        micro.MicroArc.from_json({**data, "space": "macro"})
    with pytest.raises(ArcError, match=r"space=None"):
        micro.MicroArc.from_json({k: v for k, v in data.items() if k != "space"})
    with pytest.raises(
        ArcError, match=r"space='conv3d': unknown search space \(known: micro, macro, rnn\)"
    ):
        arc_io.arc_from_json({**data, "space": "conv3d"})


# --- Cell structure -----------------------------------------------------------------------------


def test_loose_ends_of_the_papers_figure_5_cell():
    # Paper Fig. 5 (B = 4, 1-based): h3 = sep5(h2) + id(h2); h4 = avg_pool(h3) + sep3(h1).
    cell = micro.MicroCell(
        (_node(1, "sep_conv_5x5", 1, "identity"), _node(2, "avg_pool_3x3", 0, "sep_conv_3x3"))
    )
    assert cell.num_nodes == 2
    assert cell.used_mask() == (True, True, True, False)
    assert cell.loose_ends() == (3,)


def test_loose_ends_with_several_outputs():
    cell = micro.MicroCell(
        (
            _node(0, "identity", 0, "identity"),  # 2: read by 4
            _node(1, "max_pool_3x3", 1, "identity"),  # 3: loose
            _node(2, "sep_conv_3x3", 1, "identity"),  # 4: read by 5
            _node(4, "avg_pool_3x3", 4, "identity"),  # 5: loose
            _node(0, "sep_conv_5x5", 1, "identity"),  # 6: loose (last)
        )
    )
    assert cell.used_mask() == (True, True, True, False, True, False, False)
    assert cell.loose_ends() == (3, 5, 6)


# --- Size of the space --------------------------------------------------------------------------


def test_paper_formula_gives_the_published_number():
    # "(5 x (B-2)!)^4 ... With B = 7 ... 1.3 x 10^11" (Section 2.4).
    assert micro.paper_search_space_size(5) == (5 * math.factorial(5)) ** 4 == 600**4
    assert f"{micro.paper_search_space_size(5):.1e}" == "1.3e+11"


def test_exact_size_has_a_closed_form_far_above_the_paper():
    for n in range(1, 8):
        assert micro.search_space_size(n) == (5**n * math.factorial(n + 1)) ** 4
        assert micro.search_space_size(n) > micro.paper_search_space_size(n)
    assert f"{micro.search_space_size(5):.2e}" == "2.56e+25"
    assert f"{micro.search_space_size(5, unordered_operands=True):.2e}" == "4.39e+22"


def test_exact_size_matches_enumeration_of_one_node_arcs():
    # Every token sequence in a box one index wider than allowed; validation decides membership.
    per_operand = list(itertools.product(range(3), range(5)))
    arcs = set()
    for a, b, c, d in itertools.product(per_operand, repeat=4):
        tokens = [*a, *b, *c, *d]
        if micro.tokens_are_valid(tokens, 1):
            arcs.add(micro.MicroArc.from_tokens(tokens, 1))
    assert len(arcs) == micro.search_space_size(1) == 100**2
    assert micro.paper_search_space_size(1) == 625  # the formula is off even for one node


@pytest.mark.slow
def test_exact_cell_count_matches_enumeration_of_two_node_cells():
    cells = []
    for tokens in itertools.product(range(4), range(5), repeat=4):
        try:
            cells.append(micro.MicroCell.from_tokens(tokens))
        except ArcError:
            pass
    assert len(set(cells)) ** 2 == micro.search_space_size(2) == 22500**2
    # Up to swapping the two (commuting) operands of each node.
    canonical = {
        tuple(tuple(sorted([(n.input_a, n.op_a), (n.input_b, n.op_b)])) for n in cell.nodes)
        for cell in cells
    }
    assert len(canonical) ** 2 == micro.search_space_size(2, unordered_operands=True) == 6600**2


# --- Decision program ---------------------------------------------------------------------------


@pytest.mark.parametrize("num_nodes", [1, 5])
def test_program_emits_exactly_to_tokens(num_nodes):
    program = micro.decision_program(num_nodes)
    assert decisions.num_tokens(program) == 8 * num_nodes
    assert sum(isinstance(s, decisions.ResetAnchors) for s in program) == 1
    arc = _random_arcs(num_nodes, 1, seed=3)[0]
    tokens = arc.to_tokens()
    position, anchors = 0, 0
    for step in program:
        if isinstance(step, decisions.ResetAnchors):
            assert position == 4 * num_nodes  # between the normal and the reduction cell
            anchors = 0
        elif isinstance(step, decisions.AnchorStep):
            anchors += 1
        else:
            cell, offset = divmod(position, 4 * num_nodes)
            node = offset // 4 + 2
            field = micro.FIELDS[offset % 4]
            if field.startswith("input"):
                # Node k chooses among exactly the anchors of nodes 0..k-1 of its own cell.
                assert isinstance(step, decisions.IndexChoice)
                assert step.num_candidates == node == anchors
            else:
                assert step == decisions.OpChoice(
                    5, group="micro_op", bias_init=(10.0, 10.0, 0.0, 0.0, 0.0)
                )
            candidates = getattr(step, "num_candidates", getattr(step, "num_ops", None))
            assert 0 <= tokens[position] < candidates
            position += 1
    assert position == len(tokens)


def test_uniform_program_walk_reproduces_sample_random_arc():
    # Drawing each of the program's choices uniformly, in program order, gives the same arc as
    # sample_random_arc with the same seed: same decisions, same order.
    program = micro.decision_program(5)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        tokens = []
        for step in program:
            if isinstance(step, decisions.IndexChoice):
                tokens.append(int(rng.integers(step.num_candidates)))
            elif isinstance(step, decisions.OpChoice):
                tokens.append(int(rng.integers(step.num_ops)))
        expected = micro.sample_random_arc(5, np.random.default_rng(seed))
        assert micro.MicroArc.from_tokens(tokens, 5) == expected


# --- Sampling -----------------------------------------------------------------------------------


def test_sampling_is_reproducible_and_covers_the_space():
    first = _random_arcs(5, 200, seed=7)
    assert first == _random_arcs(5, 200, seed=7)
    assert first != _random_arcs(5, 200, seed=8)
    assert len(set(first)) == 200
    ops = collections.Counter()
    inputs = collections.defaultdict(collections.Counter)
    for arc in first:
        for _, cell in arc.cells():
            for k, node in enumerate(cell.nodes, start=2):
                ops.update([node.op_a, node.op_b])
                inputs[k].update([node.input_a, node.input_b])
    assert set(ops) == set(micro.OPS)
    total = sum(ops.values())  # 4000 draws: each op ~ 800 +- 25
    assert all(0.17 < count / total < 0.23 for count in ops.values()), ops
    for k, counter in inputs.items():
        assert set(counter) == set(range(k)), (k, counter)  # every allowed input, nothing else


def test_sampling_needs_a_generator():
    with pytest.raises(TypeError, match="default_rng"):
        micro.sample_random_arc(5, 0)


def test_split_tokens():
    tokens = np.arange(16)
    normal, reduction = micro.split_tokens(tokens, 2)
    assert normal.tolist() == list(range(8)) and reduction.tolist() == list(range(8, 16))
    with pytest.raises(ArcError, match="expected 16 tokens for num_nodes=2, got 15"):
        micro.split_tokens(tokens[:-1], 2)


# --- arc.json files -----------------------------------------------------------------------------


def test_save_and_load_round_trip_atomically(tmp_path):
    arc = _random_arcs(3, 1, seed=1)[0]
    path = tmp_path / "run" / "arc.json"  # directory created on demand
    arc_io.save_arc(arc, str(path))
    assert os.listdir(path.parent) == ["arc.json"]  # no temporary file left behind
    assert arc_io.load_arc(str(path)) == arc
    assert json.loads(path.read_text())["normal"][0]["op_a"] in micro.OPS  # readable names
    other = _random_arcs(3, 1, seed=2)[0]
    arc_io.save_arc(other, str(path))  # overwrite
    assert os.listdir(path.parent) == ["arc.json"]
    assert arc_io.load_arc(str(path), space="micro") == other
    assert arc_io.load_arc("enas_micro_final", space="micro") == micro.PUBLISHED["enas_micro_final"]


def test_failed_save_leaves_the_old_file(tmp_path):
    path = tmp_path / "arc.json"
    arc_io.save_arc(micro.PUBLISHED["enas_micro_final"], str(path))
    before = path.read_text()

    class Unserializable:
        def to_json(self):
            return {"space": "micro", "bad": object()}

    with pytest.raises(TypeError):
        arc_io.save_arc(Unserializable(), str(path))
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["arc.json"]


def test_load_errors_name_the_path_or_the_known_names(tmp_path):
    missing = tmp_path / "nope" / "arc.json"
    with pytest.raises(ArcFileError, match=f"{missing}.*no such file.*enas_micro_final"):
        arc_io.load_arc(str(missing))
    with pytest.raises(
        ArcFileError,
        match=r"'enas_micro_finale'.*known names: enas_lm_cell, enas_macro_final, "
        r"enas_micro_final, enas_ptb_paper",
    ):
        arc_io.load_arc("enas_micro_finale")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ArcFileError, match=f"{bad}: not valid JSON"):
        arc_io.load_arc(str(bad))
    invalid = tmp_path / "invalid.json"
    data = micro.PUBLISHED["enas_micro_final"].to_json()
    del data["normal_string"], data["reduction_string"]
    data["reduction"][2]["input_b"] = 7
    invalid.write_text(json.dumps(data))
    with pytest.raises(ArcFileError, match=f"{invalid}: reduction cell, node 4, input_b=7"):
        arc_io.load_arc(str(invalid))
    unknown = tmp_path / "conv3d.json"
    unknown.write_text(json.dumps({"space": "conv3d", "version": 1}))
    with pytest.raises(ArcFileError, match=f"{unknown}: space='conv3d': unknown search space"):
        arc_io.load_arc(str(unknown))


def test_url_paths_go_through_gfile():
    pytest.importorskip("tensorflow")
    arc = micro.PUBLISHED["enas_micro_final"]
    path = "ram://micro_test/run/arc.json"
    arc_io.save_arc(arc, path)
    assert arc_io.load_arc(path) == arc
    import tensorflow as tf

    assert tf.io.gfile.listdir("ram://micro_test/run") == ["arc.json"]
    with pytest.raises(ArcFileError, match="ram://micro_test/run/other.json.*no such file"):
        arc_io.load_arc("ram://micro_test/run/other.json")

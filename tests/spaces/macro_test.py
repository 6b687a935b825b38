"""Tests for the macro search space (enas_tf.spaces.macro) and its arc.json registration."""

import itertools
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from enas_tf.errors import ArcError, ArcFileError
from enas_tf.policy.controller import Controller
from enas_tf.spaces import arc_io, decisions, macro

FINAL = macro.PUBLISHED["enas_macro_final"]
CONVS = ("conv_3x3", "sep_conv_3x3", "conv_5x5", "sep_conv_5x5")

# Rows of scripts/cifar10_macro_final.sh quoted in ENAS_FACTS.md (row k = layer k), a few only:
# the module stores the whole listing, these check it was transcribed and parsed as published.
FINAL_ROWS = {
    1: "0",
    2: "3 0",
    6: "3 1 1 0 1 0",
    10: "0 0 0 0 0 0 0 0 0 0",
    24: "0 1 1 0 0 0 1 1 1 0 1 0 0 0 1 0 1 0 0 1 1 0 0 0",
}


def _layer(op, *bits):
    return macro.MacroLayer(op, tuple(bits))


def _random_arcs(num_layers, count, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    return [macro.sample_random_arc(num_layers, rng, **kwargs) for _ in range(count)]


# --- The published arc --------------------------------------------------------------------------


def test_op_ids_are_the_original_codes():
    assert macro.OPS == (
        "conv_3x3",
        "sep_conv_3x3",
        "conv_5x5",
        "sep_conv_5x5",
        "avg_pool_3x3",
        "max_pool_3x3",
    )
    assert macro.NUM_OPS == 6


def test_published_arc_loads_by_name_as_published():
    arc = arc_io.load_arc("enas_macro_final")
    assert arc is FINAL and arc_io.load_arc("enas_macro_final", space="macro") is FINAL
    assert {"enas_macro_final", "enas_micro_final"} <= set(arc_io.published_names())
    assert arc.num_layers == 24
    rows = arc.to_rows()
    assert len(rows) == 24
    for index, row in enumerate(rows):
        op, *bits = (int(t) for t in row.split())
        assert len(bits) == index == len(arc.layers[index].skips)
        assert 0 <= op <= 3 and set(bits) <= {0, 1}
    for layer, row in FINAL_ROWS.items():
        assert rows[layer - 1] == row
    assert arc.ops_used() == CONVS  # "ops restricted to 0-3"
    assert len(arc.to_tokens()) == macro.num_tokens(24) == 300
    # Layer 6, "3 1 1 0 1 0": a 5x5 separable conv of layer 5, plus the stem, layers 1 and 3.
    assert arc.layers[5] == _layer("sep_conv_5x5", 1, 1, 0, 1, 0)
    assert arc.layers[5].skip_sources() == (0, 1, 3)
    assert arc.to_json()["layers"][5] == {"layer": 6, "op": "sep_conv_5x5", "skips": [0, 1, 3]}
    assert str(arc).startswith("0 | 3 0 | 0 1 0 | 2 0 0 1 |")


# --- Round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("num_layers", [1, 2, 5, 12])
def test_round_trips(num_layers, tmp_path):
    arcs = _random_arcs(num_layers, 10, seed=num_layers)
    if num_layers == 12:
        arcs.append(FINAL)  # 24 layers: the lengths below come from the arc, not num_layers
    for n, arc in enumerate(arcs):
        length = macro.num_tokens(arc.num_layers)
        tokens = arc.to_tokens()
        assert len(tokens) == length and all(type(t) is int for t in tokens)
        assert macro.MacroArc.from_tokens(tokens, arc.num_layers) == arc
        assert macro.MacroArc.from_tokens(tokens) == arc  # num_layers inferred
        assert macro.MacroArc.from_tokens(np.array(tokens, np.int64)) == arc
        assert macro.MacroArc.from_tokens(tf.constant(tokens, tf.int32)) == arc
        assert macro.tokens_are_valid(tokens, arc.num_layers)
        assert arc.to_string() == " ".join(str(t) for t in tokens)  # original ids by default
        assert macro.MacroArc.from_string(arc.to_string()) == arc
        assert macro.MacroArc.from_string("\n".join(arc.to_rows()) + "\n") == arc
        assert macro.MacroArc.from_rows(arc.to_rows()) == arc
        assert macro.MacroArc.from_json(arc.to_json()) == arc
        assert macro.MacroArc.from_json(json.loads(json.dumps(arc.to_json()))) == arc
        path = tmp_path / f"run{n}" / "arc.json"
        arc_io.save_arc(arc, str(path))
        assert os.listdir(path.parent) == ["arc.json"]
        assert arc_io.load_arc(str(path)) == arc
        assert arc_io.load_arc(str(path), space="macro") == arc


def test_arcs_are_values():
    copy = macro.MacroArc.from_tokens(np.array(FINAL.to_tokens(), np.int32))
    assert copy == FINAL and hash(copy) == hash(FINAL) and {FINAL: 1}[copy] == 1
    assert type(copy.layers[3].skips[2]) is int  # numpy ints normalised
    listed = macro.MacroArc([_layer("conv_3x3"), macro.MacroLayer("avg_pool_3x3", [1])])
    assert isinstance(listed.layers, tuple) and listed.layers[1].skips == (1,)
    with pytest.raises(AttributeError):
        FINAL.layers = ()  # frozen


def test_string_may_be_wrapped_anywhere():
    text = FINAL.to_string()
    words = text.split()
    wrapped = "\n".join(" ".join(words[i : i + 7]) for i in range(0, len(words), 7))
    assert macro.MacroArc.from_string(wrapped) == FINAL
    assert macro.MacroArc.from_string("  0\t1 1  ") == macro.MacroArc.from_rows(["0", "1 1"])


def test_json_is_readable_and_either_form_is_enough():
    data = FINAL.to_json()
    assert data["space"] == "macro" and data["version"] == macro.MacroArc.VERSION == 1
    assert data["num_layers"] == 24 and data["arc_string"] == FINAL.to_string()
    assert data["layers"][0] == {"layer": 1, "op": "conv_3x3", "skips": []}
    assert data["layers"][2] == {"layer": 3, "op": "conv_3x3", "skips": [0]}
    string_only = {"space": "macro", "version": 1, "arc_string": "0 1 1"}
    assert macro.MacroArc.from_json(string_only).to_rows() == ["0", "1 1"]
    named_only = {k: v for k, v in data.items() if k != "arc_string"}
    assert macro.MacroArc.from_json(named_only) == FINAL
    unordered = json.loads(json.dumps(named_only))
    unordered["layers"][5]["skips"] = [3, 0, 1]  # a set of sources: order does not matter
    del unordered["layers"][5]["layer"]  # the position is enough
    assert macro.MacroArc.from_json(unordered) == FINAL


# --- Restricted op sets -------------------------------------------------------------------------


def test_restricted_op_set_keeps_the_first_four_ids():
    four = macro.parse_ops("0,1,2,3")
    assert four == CONVS
    ints = [int(t) for t in FINAL.to_string().split()]
    assert FINAL.to_tokens(op_names=four) == ints == FINAL.to_tokens()
    assert macro.MacroArc.from_tokens(ints, 24, op_names=four) == FINAL
    FINAL.check_ops(four)


def test_restriction_renumbers_op_tokens_only():
    arc = macro.MacroArc.from_string("5 4 1")
    pools = macro.parse_ops("max_pool_3x3, avg_pool_3x3")
    assert pools == ("avg_pool_3x3", "max_pool_3x3")  # ordered by id, not as written
    assert arc.to_tokens(op_names=pools) == [1, 0, 1]
    assert arc.to_string() == "5 4 1"  # strings always use the original ids
    assert macro.MacroArc.from_tokens([1, 0, 1], op_names=pools) == arc
    with pytest.raises(ArcError, match=r"token 0 \(layer 1, op\) = 2: must be an op token in "):
        macro.MacroArc.from_tokens([2, 0, 1], op_names=pools)


def test_restriction_that_excludes_a_used_op_names_the_layer():
    three = macro.parse_ops("0,1,2")
    # Layer 2 ("3 0") is the first to use op 3, sep_conv_5x5.
    match = (
        r"^layer 2, op='sep_conv_5x5': not among the allowed ops "
        r"\(conv_3x3, sep_conv_3x3, conv_5x5\)$"
    )
    with pytest.raises(ArcError, match=match):
        FINAL.to_tokens(op_names=three)
    with pytest.raises(ArcError, match=match):
        FINAL.check_ops(three)
    with pytest.raises(ArcError, match=r"op_names\[1\]='conv3x3': must be one of conv_3x3"):
        FINAL.to_tokens(op_names=("conv_3x3", "conv3x3"))
    with pytest.raises(ArcError, match="lists an op twice"):
        FINAL.check_ops(("conv_3x3", "conv_3x3"))


# --- parse_ops ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("all", macro.OPS),
        (" all ", macro.OPS),
        ("0,1,2,3", CONVS),
        ("3, 2,1 ,0", CONVS),
        (",".join(CONVS), CONVS),
        ("5,0,5", ("conv_3x3", "max_pool_3x3")),
        (["max_pool_3x3", 0, "0"], ("conv_3x3", "max_pool_3x3")),
        ((np.int64(4),), ("avg_pool_3x3",)),
        (macro.OPS, macro.OPS),
    ],
)
def test_parse_ops(spec, expected):
    assert macro.parse_ops(spec) == expected


@pytest.mark.parametrize(
    "spec,match",
    [
        ("conv3x3", r"ops entry 0 = 'conv3x3': not an op; allowed: 'all', or op names/ids 0 conv"),
        ("1,6", r"ops entry 1 = '6': not an op; .*5 max_pool_3x3$"),
        ("0,-1", r"ops entry 1 = '-1': not an op"),
        ([0, True], r"ops entry 1 = True: not an op"),
        (["all"], r"ops entry 0 = 'all': not an op"),
        ("", r"ops='': no ops given, a search needs at least one"),
        (" , ", r"ops=' , ': no ops given"),
        ([], r"ops=\[\]: no ops given"),
        ("0,,1", r"ops='0,,1': entry 1 is empty \(a stray comma\?\)"),
        (None, r"ops=None: expected 'all', a comma-separated string or a list"),
    ],
)
def test_parse_ops_errors_name_the_entry_and_the_allowed_values(spec, match):
    with pytest.raises(ArcError, match=match):
        macro.parse_ops(spec)


# --- Validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "position,value,match",
    [
        (0, 6, r"token 0 \(layer 1, op\) = 6: must be an op id in \[0, 5\] \(0 conv_3x3, 1 sep"),
        (6, -1, r"token 6 \(layer 4, op\) = -1: must be an op id in \[0, 5\]"),
        (7, 2, r"^token 7 \(layer 4, skip from layer 0, the stem\) = 2: must be 0 or 1$"),
        (9, 2, r"^token 9 \(layer 4, skip from layer 2\) = 2: must be 0 or 1$"),
        (2, 0.5, r"token 2 \(layer 2, skip from layer 0, the stem\) = 0.5: must be 0 or 1"),
        (4, True, r"token 4 \(layer 3, skip from layer 0, the stem\) = True: must be 0 or 1"),
        (3, "1", r"token 3 \(layer 3, op\) = '1': must be an op id"),
    ],
)
def test_token_errors_name_position_layer_and_field(position, value, match):
    tokens = [0, 1, 0, 2, 0, 1, 3, 1, 0, 1]  # 4 layers
    assert macro.tokens_are_valid(tokens, 4)
    tokens[position] = value
    with pytest.raises(ArcError, match=match):
        macro.MacroArc.from_tokens(tokens, 4)
    assert not macro.tokens_are_valid(tokens, 4)


def test_token_length_errors():
    tokens = FINAL.to_tokens()
    with pytest.raises(ArcError, match=r"expected 276 tokens for num_layers=23 .* got 300"):
        macro.MacroArc.from_tokens(tokens, 23)
    with pytest.raises(
        ArcError,
        match=r"got 299 tokens: a macro arc of L layers has L \+ L\(L-1\)/2 .* fits no L "
        r"\(276 for 23 layers, 300 for 24 layers\)",
    ):
        macro.MacroArc.from_tokens(tokens[:-1])
    with pytest.raises(ArcError, match=r"got 0 tokens: .* \(1 for 1 layer, 3 for 2 layers\)"):
        macro.MacroArc.from_tokens([])
    with pytest.raises(ArcError, match="num_layers=0: must be an integer >= 1"):
        macro.MacroArc.from_tokens([], 0)
    with pytest.raises(ArcError, match="1-D"):
        macro.MacroArc.from_tokens(np.zeros([2, 3], np.int32))
    with pytest.raises(ArcError, match="sequence of integers"):
        macro.MacroArc.from_tokens("0 1 1")


def test_string_and_row_errors():
    with pytest.raises(ArcError, match=r"arc string, number 2 = 'x': not an integer"):
        macro.MacroArc.from_string("0 1 x")
    with pytest.raises(ArcError, match=r"arc string has 4 numbers: .* \(3 for 2 layers, 6 for 3"):
        macro.MacroArc.from_string("0 1 1 0")
    with pytest.raises(
        ArcError, match=r"^arc string, number 5 \(layer 3, skip from layer 1\) = 2: must be 0 or 1"
    ):
        macro.MacroArc.from_string("0 1 1 0 0 2")
    # One bit moved from row 3 to row 4: the total still fits 4 layers, the rows do not.
    with pytest.raises(ArcError, match=r"^row 3 has 2 numbers: needs 3 \(its op id, then 2 skip"):
        macro.MacroArc.from_string("0\n1 1\n0 0\n2 0 1 1 0")
    with pytest.raises(ArcError, match=r"^row 2 has 3 numbers: needs 2 \(its op id, then 1 skip"):
        macro.MacroArc.from_string("0\n1 1 0\n")  # no L fits: diagnosed per row
    with pytest.raises(ArcError, match=r"^row 2, number 0 \(layer 2, op\) = 9: must be an op id"):
        macro.MacroArc.from_rows(["0", "9 1"])
    with pytest.raises(ArcError, match="needs at least 1 row"):
        macro.MacroArc.from_rows([])


def test_objects_cannot_be_built_invalid():
    with pytest.raises(ArcError, match=r"^op='conv_7x7': must be one of conv_3x3, sep_conv_3x3"):
        _layer("conv_7x7")
    with pytest.raises(ArcError, match=r"^op=3: must be one of"):
        _layer(3)
    with pytest.raises(ArcError, match=r"^skips\[1\]=2: must be 0 or 1"):
        _layer("conv_3x3", 0, 2)
    with pytest.raises(ArcError, match=r"^skips\[0\]=True: must be 0 or 1"):
        _layer("conv_3x3", True)
    with pytest.raises(ArcError, match=r"^skips='01': expected a sequence of 0/1 bits"):
        macro.MacroLayer("conv_3x3", "01")
    with pytest.raises(
        ArcError,
        match=r"^layer 2, skips: has 0 bits, needs 1 \(one per skip source: layer 2's only skip "
        r"source is layer 0, the stem\)",
    ):
        macro.MacroArc((_layer("conv_3x3"), _layer("conv_3x3")))
    with pytest.raises(
        ArcError,
        match=r"^layer 3, skips: has 1 bit, needs 2 \(.*layers 0 \(the stem\) to 1; layer 2 "
        r"feeds its op\)",
    ):
        macro.MacroArc((_layer("conv_3x3"), _layer("conv_3x3", 0), _layer("conv_3x3", 0)))
    with pytest.raises(ArcError, match=r"^layer 1, skips: has 1 bit, needs 0 .* no skip sources"):
        macro.MacroArc((_layer("conv_3x3", 1),))
    with pytest.raises(ArcError, match="no layers: needs at least 1"):
        macro.MacroArc(())
    with pytest.raises(ArcError, match=r"^layer 2: expected a MacroLayer, got str"):
        macro.MacroArc((_layer("conv_3x3"), "conv_3x3"))
    assert isinstance(ArcError("x"), ValueError)


def _named(*layers):
    return {"space": "macro", "version": 1, "layers": list(layers)}


@pytest.mark.parametrize(
    "change,match",
    [
        ({"op": "conv3x3"}, r"^layer 3, op='conv3x3': must be one of conv_3x3"),
        ({"skips": [2]}, r"^layer 3, skips entry 2: not a skip source; layer 3's skip sources "),
        ({"skips": [-1]}, r"^layer 3, skips entry -1: not a skip source"),
        ({"skips": [0, 0]}, r"^layer 3, skips: lists layer 0, the stem twice"),
        ({"skips": "0"}, r"^layer 3, skips='0': expected a list of the layer numbers"),
        ({"layer": 2}, r"entry 2 says layer=2 but entry 2 is layer 3: list the layers in order"),
        ({"kind": "conv"}, r"^layer 3: unknown field\(s\) \['kind'\]; expected op, skips"),
    ],
)
def test_json_layer_errors_name_layer_and_field(change, match):
    data = _named(
        {"layer": 1, "op": "conv_3x3", "skips": []},
        {"layer": 2, "op": "conv_3x3", "skips": [0]},
        {"layer": 3, "op": "conv_3x3", "skips": [1], **change},
    )
    with pytest.raises(ArcError, match=match):
        macro.MacroArc.from_json(data)


def test_json_structure_errors():
    data = FINAL.to_json()
    edited = json.loads(json.dumps(data))
    edited["layers"][1]["op"] = "conv_5x5"  # the string still says "3 0"
    with pytest.raises(
        ArcError,
        match=r"^arc_string disagrees with the named layers \(layer 2: arc_string has '3 0', "
        r"the named layers '2 0'\): fix or delete one of them$",
    ):
        macro.MacroArc.from_json(edited)
    short = {**data, "arc_string": "0 3 0"}
    with pytest.raises(ArcError, match=r"\(arc_string has 2 layers, the named layers 24\)"):
        macro.MacroArc.from_json(short)
    with pytest.raises(ArcError, match=r"num_layers=12 but the arc has 24 layers"):
        macro.MacroArc.from_json({**data, "num_layers": 12})
    with pytest.raises(ArcError, match=r"missing 'layers' \(named layers\) and 'arc_string'"):
        macro.MacroArc.from_json({"space": "macro", "version": 1})
    missing = json.loads(json.dumps(data))
    del missing["layers"][4]["skips"]
    with pytest.raises(ArcError, match=r"^layer 5: missing field 'skips'"):
        macro.MacroArc.from_json(missing)
    with pytest.raises(ArcError, match=r"layers: expected a non-empty list of layers"):
        macro.MacroArc.from_json(_named())
    with pytest.raises(ArcError, match=r"arc_string: expected a string, got list"):
        macro.MacroArc.from_json({"space": "macro", "version": 1, "arc_string": [0]})


def test_from_json_checks_space_and_version():
    data = FINAL.to_json()
    with pytest.raises(ArcError, match=r"space='micro': this reader handles space='macro' arcs"):
        macro.MacroArc.from_json({**data, "space": "micro"})
    with pytest.raises(ArcError, match=r"version=2: this code reads macro arcs of version 1"):
        macro.MacroArc.from_json({**data, "version": 2})
    with pytest.raises(ArcError, match=r"JSON form is an object, got list"):
        macro.MacroArc.from_json([data])
    assert arc_io.arc_from_json(data) == FINAL  # dispatched on "space"


def test_load_errors(tmp_path):
    micro_path = tmp_path / "micro.json"
    arc_io.save_arc(arc_io.load_arc("enas_micro_final"), str(micro_path))
    with pytest.raises(ArcError, match=r"holds an arc of space 'micro', expected space 'macro'"):
        arc_io.load_arc(str(micro_path), space="macro")
    invalid = tmp_path / "invalid.json"
    data = FINAL.to_json()
    del data["arc_string"]
    data["layers"][3]["skips"] = [5]
    invalid.write_text(json.dumps(data))
    with pytest.raises(ArcFileError, match=f"{invalid}: layer 4, skips entry 5: not a skip"):
        arc_io.load_arc(str(invalid))


# --- Size of the space --------------------------------------------------------------------------


def test_space_size_is_the_papers():
    size = macro.search_space_size(12)
    assert size == 6**12 * 2**66
    assert f"{size:.1e}" == "1.6e+29"  # "1.6 x 10^29" (Section 2.3)
    assert macro.search_space_size(24, num_ops=4) == 4**24 * 2**276
    with pytest.raises(ArcError, match="num_ops=0: must be an integer >= 1"):
        macro.search_space_size(3, num_ops=0)


def test_space_size_matches_enumeration():
    # Every token sequence in a box one value wider than allowed; validation decides membership.
    for num_ops, op_names in ((6, macro.OPS), (2, ("conv_5x5", "max_pool_3x3"))):
        valid = set()
        for tokens in itertools.product(range(num_ops + 1), range(num_ops + 1), range(3)):
            layers = [tokens[0]], [tokens[1], tokens[2]]
            for third in itertools.product(range(num_ops + 1), range(3), range(3)):
                candidate = [*layers[0], *layers[1], *third]
                if macro.tokens_are_valid(candidate, 3, op_names):
                    valid.add(macro.MacroArc.from_tokens(candidate, 3, op_names))
        assert len(valid) == macro.search_space_size(3, num_ops) == num_ops**3 * 2**3


# --- Token layout and decision program ----------------------------------------------------------


def test_token_layout():
    assert [macro.num_tokens(n) for n in range(1, 6)] == [1, 3, 6, 10, 15]
    assert macro.num_tokens(12) == 12 + 66
    assert macro.op_token_positions(5) == [0, 1, 3, 6, 10]
    mask = macro.skip_token_mask(5)
    assert mask.dtype == bool and mask.shape == (15,)
    assert list(np.flatnonzero(~mask)) == macro.op_token_positions(5)
    tokens = np.array(FINAL.to_tokens())
    skips = tokens[macro.skip_token_mask(24)]
    assert skips.tolist() == [bit for layer in FINAL.layers for bit in layer.skips]
    assert tokens[macro.op_token_positions(24)].tolist() == [
        macro.OPS.index(layer.op) for layer in FINAL.layers
    ]


def test_layer_spans_cut_each_layer_out_of_the_tokens():
    assert [macro.num_skips(k) for k in (1, 2, 5)] == [0, 1, 4]
    assert [macro.op_token_position(k) for k in range(1, 6)] == macro.op_token_positions(5)
    assert macro.layer_span(1) == slice(0, 1) and macro.skip_span(1) == slice(1, 1)
    assert macro.layer_span(4) == slice(6, 10) and macro.skip_span(4) == slice(7, 10)
    assert macro.layer_span(24).stop == macro.num_tokens(24)
    tokens = FINAL.to_tokens()
    as_tensor = tf.constant(tokens, tf.int32)
    for number, layer in enumerate(FINAL.layers, start=1):
        row = tokens[macro.layer_span(number)]
        assert " ".join(map(str, row)) == FINAL.to_rows()[number - 1]
        op, bits = macro.layer_tokens(tokens, number)
        assert (op, tuple(bits)) == (macro.OPS.index(layer.op), layer.skips)
        op, bits = macro.layer_tokens(as_tensor, number)
        assert int(op) == macro.OPS.index(layer.op)
        assert tuple(bits.numpy()) == layer.skips
    with pytest.raises(ArcError, match=r"layer=0: must be an integer >= 1 \(layer 0 is the stem"):
        macro.layer_span(0)
    with pytest.raises(ArcError, match="layer 1 has no skip decision"):
        macro.skip_decision(1)


@pytest.mark.parametrize("num_layers", [1, 2, 5, 24])
def test_decision_indices_follow_the_program(num_layers):
    steps = decisions.decision_steps(macro.decision_program(num_layers, 4))
    assert len(steps) == 2 * num_layers - 1
    for k in range(1, num_layers + 1):
        assert steps[macro.op_decision(k)] == decisions.OpChoice(4, group="op")
        if k > 1:
            assert macro.op_decision(k) == 2 * k - 3 and macro.skip_decision(k) == 2 * k - 2
            skip = steps[macro.skip_decision(k)]
            assert skip == decisions.SkipChoice(macro.num_skips(k), push_anchor=True)
    assert macro.op_decision(1) == 0


@pytest.mark.parametrize("num_layers", [1, 2, 5])
def test_choice_panels_are_the_ops_and_the_skips(num_layers):
    names = macro.parse_ops("0,1,2,3")
    panels = macro.choice_panels(num_layers, names)
    every = list(range(2 * num_layers - 1))  # the program's deciding steps, in order
    layers = tuple(f"layer {k}" for k in range(1, num_layers + 1))
    ops = panels[0]
    assert ops == decisions.ChoicePanel(
        "macro_ops", tuple(every[0:1] + every[1::2]), layers, names, True, "layer", "op"
    )
    if num_layers == 1:
        assert len(panels) == 1
        return
    skips = panels[1]
    assert len(panels) == 2
    assert skips == decisions.ChoicePanel(
        "macro_skips",
        tuple(every[2::2]),
        layers[1:],
        ("stem", *(str(j) for j in range(1, num_layers - 1))),
        categorical=False,
        row_title="layer",
        col_title="skip source layer",
    )
    steps = decisions.decision_steps(macro.decision_program(num_layers, len(names)))
    assert all(isinstance(steps[d], decisions.OpChoice) for d in ops.decisions)
    assert [steps[d].num_candidates for d in skips.decisions] == list(range(1, num_layers))
    assert macro.choice_panels(3)[0].col_labels == macro.OPS


@pytest.mark.parametrize("num_layers", [1, 2, 4, 12, 24])
def test_decision_program_emits_to_tokens(num_layers):
    program = macro.decision_program(num_layers)
    assert decisions.num_tokens(program) == macro.num_tokens(num_layers)
    assert program[:2] == (decisions.OpChoice(6, group="op"), decisions.AnchorStep())
    for index in range(1, num_layers):
        assert program[2 * index : 2 * index + 2] == (
            decisions.OpChoice(6, group="op"),
            decisions.SkipChoice(index, push_anchor=True),
        )
    assert len(program) == 2 * num_layers
    restricted = macro.decision_program(num_layers, num_ops=4)
    assert all(s.num_ops == 4 for s in restricted if isinstance(s, decisions.OpChoice))


def test_uniform_program_walk_reproduces_sample_random_arc():
    # Drawing the program's choices in program order gives sample_random_arc's arc for the same
    # seed: same decisions, same order, so the random baseline samples what the controller does.
    program = macro.decision_program(6)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        tokens = []
        for step in program:
            if isinstance(step, decisions.OpChoice):
                tokens.append(int(rng.integers(step.num_ops)))
            elif isinstance(step, decisions.SkipChoice):
                tokens += [int(rng.random() < 0.5) for _ in range(step.num_candidates)]
        expected = macro.sample_random_arc(6, np.random.default_rng(seed))
        assert macro.MacroArc.from_tokens(tokens, 6) == expected


@pytest.mark.parametrize("num_ops", [6, 4])
def test_controller_samples_decode_to_arcs(num_ops):
    op_names = macro.parse_ops(list(range(num_ops)))
    controller = Controller(macro.decision_program(4, num_ops), lstm_size=8, first_input="go")
    assert controller.num_tokens == macro.num_tokens(4)
    arcs = set()
    for i in range(6):
        tokens, _, _ = controller.sample(tf.constant([i, 7], tf.int64))
        arc = macro.MacroArc.from_tokens(tokens, 4, op_names=op_names)
        assert arc.to_tokens(op_names=op_names) == tokens.numpy().tolist()
        assert set(arc.ops_used()) <= set(op_names)
        arcs.add(arc)
    assert len(arcs) > 1


# --- Sampling -----------------------------------------------------------------------------------


def test_sampling_is_reproducible_and_covers_the_space():
    arcs = _random_arcs(8, 200, seed=7)
    assert arcs == _random_arcs(8, 200, seed=7)
    assert arcs != _random_arcs(8, 200, seed=8)
    assert len(set(arcs)) == 200
    ops = [layer.op for arc in arcs for layer in arc.layers]
    assert set(ops) == set(macro.OPS)
    assert all(0.13 < ops.count(op) / len(ops) < 0.2 for op in macro.OPS)  # 1/6 each
    bits = [bit for arc in arcs for layer in arc.layers for bit in layer.skips]
    assert 0.46 < np.mean(bits) < 0.54  # 5600 fair bits


def test_sampling_options():
    rng = np.random.default_rng(0)
    none = macro.sample_random_arc(6, rng, skip_prob=0.0)
    assert all(set(layer.skips) <= {0} for layer in none.layers)
    every = macro.sample_random_arc(6, rng, skip_prob=1.0)
    assert all(set(layer.skips) <= {1} for layer in every.layers)
    convs = _random_arcs(6, 30, op_names=CONVS)
    assert set().union(*(arc.ops_used() for arc in convs)) == set(CONVS)
    with pytest.raises(TypeError, match="default_rng"):
        macro.sample_random_arc(4, 0)
    with pytest.raises(ValueError, match=r"skip_prob=1.5: must be a probability"):
        macro.sample_random_arc(4, rng, skip_prob=1.5)
    with pytest.raises(ArcError, match="num_layers=0"):
        macro.sample_random_arc(0, rng)

"""Tests for the recurrent-cell search space (enas_tf.spaces.rnn) and its arc.json registration."""

import itertools
import json
import math
import os

import numpy as np
import pytest
import tensorflow as tf

from enas_tf.errors import ArcError, ArcFileError
from enas_tf.policy.controller import Controller
from enas_tf.spaces import arc_io, decisions, rnn
from enas_tf.spaces.rnn import layout

# google-research enas_lm README (`--fixed_arc`), as quoted in ENAS_FACTS.md.
ENAS_LM = "0 2 1 0 2 1 2 2 4 0 5 0 3 2 6 2"
# melodyguan/enas scripts/ptb_final.sh (`fixed_arc`, with --child_rhn_depth=12).
PTB_FINAL = "0 0 0 1 1 2 1 2 0 2 0 5 1 1 0 6 1 8 1 8 1 8 1"

LM_CELL = rnn.PUBLISHED["enas_lm_cell"]
PAPER_CELL = rnn.PUBLISHED["enas_ptb_paper"]


def _arc(*nodes):
    """`_arc("tanh", (1, "relu"), ...)`: node 1's activation, then (prev, activation) pairs."""
    first = rnn.RnnNode(0, nodes[0])
    return rnn.RnnArc((first, *(rnn.RnnNode(prev, act) for prev, act in nodes[1:])))


def _random_arcs(num_nodes, count, seed=0):
    rng = np.random.default_rng(seed)
    return [rnn.sample_random_arc(num_nodes, rng) for _ in range(count)]


# --- The published cells ------------------------------------------------------------------------


def test_activation_ids_are_enas_lms():
    # enas_lm fixed_lib.py `_select_function`: 0 tanh, 1 relu, 2 sigmoid, 3 identity.
    assert rnn.ACTIVATIONS == ("tanh", "relu", "sigmoid", "identity")
    assert rnn.NUM_ACTIVATIONS == 4


def test_enas_lm_cell_loads_by_name_and_reencodes_to_the_published_integers():
    arc = arc_io.load_arc("enas_lm_cell")
    assert arc is LM_CELL and arc_io.load_arc("enas_lm_cell", space="rnn") is LM_CELL
    assert {"enas_lm_cell", "enas_ptb_paper"} <= set(arc_io.published_names())
    assert arc.to_string() == ENAS_LM
    assert arc.to_enas_lm() == [int(v) for v in ENAS_LM.split()]
    assert rnn.RnnArc.from_enas_lm([int(v) for v in ENAS_LM.split()]) == arc
    # 8 (prev_index, func) pairs = 8 nodes after enas_lm's fixed tanh input node: N = 9.
    assert arc.num_nodes == 9
    assert arc.nodes[0] == rnn.RnnNode(0, "tanh")
    # Pair 0 "0 2": enas_lm layers[1] = sigmoid of layers[0], i.e. node 2 = sigmoid(node 1).
    assert arc.nodes[1] == rnn.RnnNode(1, "sigmoid")
    # Pair 7 "6 2": layers[8] from layers[6], i.e. node 9 = sigmoid(node 7).
    assert arc.nodes[8] == rnn.RnnNode(7, "sigmoid")
    assert str(arc) == (
        "tanh(x,h) sigmoid(1) tanh(2) relu(3) sigmoid(3) tanh(5) tanh(6) sigmoid(4) sigmoid(7)"
    )
    assert arc.loose_ends() == (8, 9)  # what enas_lm's TPU model averages by default
    assert arc.output_nodes("all_but_first") == tuple(range(2, 10))  # its GPU model: layers[1:]
    assert arc.to_tokens() == [0, *arc.to_enas_lm()]


def test_paper_cell_is_figure_6():
    arc = arc_io.load_arc("enas_ptb_paper")
    assert arc is PAPER_CELL
    assert arc.to_tokens() == [int(v) for v in PTB_FINAL.split()]
    assert arc.num_nodes == 12  # "In our experiments, N = 12"
    # "all non-linearities in the cell are either ReLU or tanh"
    assert {node.activation for node in arc.nodes} == {"tanh", "relu"}
    # "the output of our ENAS cell is an average of 6 nodes"
    assert arc.loose_ends() == (4, 5, 8, 10, 11, 12)
    # Figure 6: a tanh chain, node 3 (ReLU) feeding three nodes, node 9 (ReLU) feeding three.
    assert [node.prev for node in arc.nodes] == [0, 1, 2, 3, 3, 3, 6, 2, 7, 9, 9, 9]
    assert arc.to_string() == PTB_FINAL[2:]  # its node 1 is tanh: it has an enas_lm form too


# --- Round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("num_nodes", [1, 2, 5, 12])
def test_round_trips(num_nodes, tmp_path):
    arcs = _random_arcs(num_nodes, 12, seed=num_nodes)
    if num_nodes == 12:
        arcs += [LM_CELL, PAPER_CELL]  # the lengths below come from the arc, not num_nodes
    for n, arc in enumerate(arcs):
        tokens = arc.to_tokens()
        assert len(tokens) == rnn.num_tokens(arc.num_nodes) == 2 * arc.num_nodes - 1
        assert all(type(t) is int for t in tokens)
        assert rnn.RnnArc.from_tokens(tokens, arc.num_nodes) == arc
        assert rnn.RnnArc.from_tokens(tokens) == arc  # num_nodes inferred
        assert rnn.RnnArc.from_tokens(np.array(tokens, np.int64)) == arc
        assert rnn.RnnArc.from_tokens(tf.constant(tokens, tf.int32)) == arc
        assert rnn.tokens_are_valid(tokens, arc.num_nodes)
        data = arc.to_json()
        assert rnn.RnnArc.from_json(data) == arc
        assert rnn.RnnArc.from_json(json.loads(json.dumps(data))) == arc
        if arc.nodes[0].activation == "tanh" and arc.num_nodes > 1:
            ints = arc.to_enas_lm()
            assert ints == tokens[1:]
            assert rnn.RnnArc.from_enas_lm(ints) == arc
            assert rnn.RnnArc.from_enas_lm(np.array(ints, np.int32)) == arc
            assert rnn.RnnArc.from_string(arc.to_string()) == arc
            assert data["enas_lm_string"] == arc.to_string()
        else:
            assert "enas_lm_string" not in data
        path = tmp_path / f"run{n}" / "arc.json"
        arc_io.save_arc(arc, str(path))
        assert os.listdir(path.parent) == ["arc.json"]
        assert arc_io.load_arc(str(path)) == arc
        assert arc_io.load_arc(str(path), space="rnn") == arc


def test_arcs_are_values():
    copy = rnn.RnnArc.from_tokens(np.array(LM_CELL.to_tokens(), np.int32))
    assert copy == LM_CELL and hash(copy) == hash(LM_CELL) and {LM_CELL: 1}[copy] == 1
    assert type(copy.nodes[3].prev) is int  # numpy ints normalised
    listed = rnn.RnnArc([rnn.RnnNode(0, "relu"), rnn.RnnNode(np.int64(1), "identity")])
    assert isinstance(listed.nodes, tuple) and listed == _arc("relu", (1, "identity"))
    with pytest.raises(AttributeError):
        LM_CELL.nodes = ()  # frozen


def test_json_is_readable_and_either_form_is_enough():
    data = LM_CELL.to_json()
    assert data["space"] == "rnn" and data["version"] == rnn.RnnArc.VERSION == 1
    assert data["num_nodes"] == 9 and data["enas_lm_string"] == ENAS_LM
    assert data["nodes"][0] == {"node": 1, "prev": 0, "activation": "tanh"}
    assert data["nodes"][1] == {"node": 2, "prev": 1, "activation": "sigmoid"}
    assert data["nodes"][8] == {"node": 9, "prev": 7, "activation": "sigmoid"}
    string_only = {"space": "rnn", "version": 1, "enas_lm_string": "0 1"}
    assert rnn.RnnArc.from_json(string_only) == _arc("tanh", (1, "relu"))
    named_only = {k: v for k, v in data.items() if k != "enas_lm_string"}
    assert rnn.RnnArc.from_json(named_only) == LM_CELL
    unnumbered = json.loads(json.dumps(named_only))
    for entry in unnumbered["nodes"]:
        del entry["node"]  # the position is enough
    assert rnn.RnnArc.from_json(unnumbered) == LM_CELL
    sigmoid_first = _arc("sigmoid", (1, "tanh"))
    assert rnn.RnnArc.from_json(sigmoid_first.to_json()) == sigmoid_first


# --- Cell structure -----------------------------------------------------------------------------


def test_loose_ends_and_used_mask():
    # The paper's Section 2.1 example: node 2 <- 1 ReLU, 3 <- 2 ReLU, 4 <- 1 tanh; output
    # (h3 + h4) / 2.
    arc = _arc("tanh", (1, "relu"), (2, "relu"), (1, "tanh"))
    assert arc.used_mask() == (True, True, True, False, False)  # cell input, nodes 1..4
    assert arc.loose_ends() == (3, 4) == arc.output_nodes() == arc.output_nodes("loose_ends")
    assert arc.output_nodes("all_but_first") == (2, 3, 4)
    chain = _arc("tanh", (1, "tanh"), (2, "tanh"))
    assert chain.loose_ends() == (3,)
    single = _arc("identity")
    assert single.used_mask() == (True, False) and single.loose_ends() == (1,)
    with pytest.raises(ArcError, match=r"'all_but_first' of a 1-node arc averages no node"):
        single.output_nodes("all_but_first")
    with pytest.raises(ArcError, match=r"mode='all': must be one of loose_ends, all_but_first"):
        arc.output_nodes("all")
    for arc in _random_arcs(7, 50):
        assert arc.loose_ends()[-1] == 7
        used = arc.used_mask()
        assert used[0] and not used[7]
        assert {node.prev for node in arc.nodes} == {i for i, u in enumerate(used) if u}


# --- Size of the space --------------------------------------------------------------------------


def test_paper_formula_and_exact_size():
    # "4^N x N! configurations ... N = 12 ... approximately 10^15" (Section 2.1).
    assert rnn.paper_search_space_size(12) == 4**12 * math.factorial(12)
    assert f"{rnn.paper_search_space_size(12):.1e}" == "8.0e+15"
    assert rnn.search_space_size(12) == 4**12 * math.factorial(11)
    assert f"{rnn.search_space_size(12):.1e}" == "6.7e+14"
    for n in range(1, 13):
        assert rnn.search_space_size(n) * n == rnn.paper_search_space_size(n)
    with pytest.raises(ArcError, match="num_nodes=0: must be an integer >= 1"):
        rnn.search_space_size(0)


@pytest.mark.parametrize("num_nodes", [1, 2, 3, 4])
def test_exact_size_matches_enumeration(num_nodes):
    # Every token sequence in a box one value wider than allowed; validation decides membership.
    ranges = [range(5)]
    for node in range(2, num_nodes + 1):
        ranges += [range(node), range(5)]
    arcs = set()
    for tokens in itertools.product(*ranges):
        if rnn.tokens_are_valid(tokens, num_nodes):
            arcs.add(rnn.RnnArc.from_tokens(tokens, num_nodes))
    assert (
        len(arcs)
        == rnn.search_space_size(num_nodes)
        == 4**num_nodes * math.factorial(num_nodes - 1)
    )


# --- Decision program and controller ------------------------------------------------------------


@pytest.mark.parametrize("num_nodes", [1, 2, 4, 12])
def test_decision_program_emits_to_tokens(num_nodes):
    program = rnn.decision_program(num_nodes)
    assert decisions.num_tokens(program) == rnn.num_tokens(num_nodes) == 2 * num_nodes - 1
    activation = decisions.OpChoice(4, group="activation")
    assert program[:2] == (activation, decisions.AnchorStep())
    for node in range(2, num_nodes + 1):
        start = 2 + 3 * (node - 2)
        assert program[start : start + 3] == (
            decisions.IndexChoice(node - 1),
            activation,
            decisions.AnchorStep(),
        )
    assert len(program) == 3 * num_nodes - 1


@pytest.mark.parametrize("num_nodes", [1, 2, 5])
def test_layout_positions_are_the_tokens_of_each_field(num_nodes):
    positions = [layout.activation_position(node) for node in range(1, num_nodes + 1)]
    positions += [layout.prev_position(node) for node in range(2, num_nodes + 1)]
    assert sorted(positions) == list(range(rnn.num_tokens(num_nodes)))  # each token once
    assert layout.num_nodes_for_length(rnn.num_tokens(num_nodes)) == num_nodes
    for arc in _random_arcs(num_nodes, 10, seed=num_nodes):
        tokens = arc.to_tokens()
        for number, node in enumerate(arc.nodes, start=1):
            activation = tokens[rnn.activation_position(number)]
            assert rnn.ACTIVATIONS[activation] == node.activation
            if number > 1:
                assert tokens[rnn.prev_position(number)] == node.prev - 1
    assert rnn.activation_position(1) == 0 and rnn.activation_position(4) == 6
    assert rnn.prev_position(2) == 1 and rnn.prev_position(4) == 5
    with pytest.raises(ValueError, match="only nodes after node 1 have a prev token"):
        rnn.prev_position(1)
    assert layout.num_nodes_for_length(0) is None and layout.num_nodes_for_length(4) is None


@pytest.mark.parametrize("num_nodes", [1, 2, 5])
def test_choice_panels_name_the_decisions_of_the_program(num_nodes):
    panels = rnn.choice_panels(num_nodes)
    steps = decisions.decision_steps(rnn.decision_program(num_nodes))
    assert len(steps) == rnn.num_tokens(num_nodes)  # one token per decision
    names = [panel.name for panel in panels]
    assert names == (["rnn_prev"] if num_nodes >= 2 else []) + ["rnn_activation"]
    activation = panels[-1]
    assert activation.decisions == tuple(range(0, 2 * num_nodes - 1, 2))
    assert activation.row_labels == tuple(f"node {n}" for n in range(1, num_nodes + 1))
    assert activation.col_labels == rnn.ACTIVATIONS
    assert (activation.row_title, activation.col_title) == ("node", "activation")
    assert activation.categorical
    assert all(steps[d] == decisions.OpChoice(4, group="activation") for d in activation.decisions)
    if num_nodes >= 2:
        prev = panels[0]
        assert prev.decisions == tuple(range(1, 2 * num_nodes - 1, 2))
        assert prev.row_labels == tuple(f"node {n}" for n in range(2, num_nodes + 1))
        assert prev.col_labels == tuple(str(n) for n in range(1, num_nodes))
        assert (prev.row_title, prev.col_title) == ("node", "previous node")
        for node, d in zip(range(2, num_nodes + 1), prev.decisions, strict=True):
            assert steps[d] == decisions.IndexChoice(node - 1)
    names = ("a", "b", "c", "d")
    assert rnn.choice_panels(num_nodes, names)[-1].col_labels == names


def test_uniform_program_walk_reproduces_sample_random_arc():
    program = rnn.decision_program(8)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        tokens = []
        for step in program:
            if isinstance(step, decisions.IndexChoice):
                tokens.append(int(rng.integers(step.num_candidates)))
            elif isinstance(step, decisions.OpChoice):
                tokens.append(int(rng.integers(step.num_ops)))
        expected = rnn.sample_random_arc(8, np.random.default_rng(seed))
        assert rnn.RnnArc.from_tokens(tokens, 8) == expected


@pytest.mark.parametrize("first_input", ["zeros", "go"])
def test_controller_samples_decode_to_arcs(first_input):
    controller = Controller(rnn.decision_program(6), lstm_size=8, first_input=first_input)
    assert controller.num_tokens == rnn.num_tokens(6)
    arcs = set()
    for i in range(6):
        tokens, _, _ = controller.sample(tf.constant([i, 7], tf.int64))
        arc = rnn.RnnArc.from_tokens(tokens, 6)
        assert arc.to_tokens() == tokens.numpy().tolist()
        arcs.add(arc)
    assert len(arcs) > 1


# --- Sampling -----------------------------------------------------------------------------------


def test_sampling_is_reproducible_and_covers_the_space():
    arcs = _random_arcs(8, 200, seed=7)
    assert arcs == _random_arcs(8, 200, seed=7)
    assert arcs != _random_arcs(8, 200, seed=8)
    assert len(set(arcs)) == 200
    activations = [node.activation for arc in arcs for node in arc.nodes]
    assert all(0.21 < activations.count(a) / len(activations) < 0.29 for a in rnn.ACTIVATIONS)
    last_prevs = [arc.nodes[-1].prev for arc in arcs]
    assert set(last_prevs) == set(range(1, 8))
    with pytest.raises(TypeError, match="default_rng"):
        rnn.sample_random_arc(4, 0)
    with pytest.raises(ArcError, match="num_nodes=0"):
        rnn.sample_random_arc(0, np.random.default_rng(0))


# --- Validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "position,value,match",
    [
        (0, 4, r"^token 0 \(node 1, activation\) = 4: must be an activation id in \[0, 3\] "),
        (1, 1, r"^token 1 \(node 2, prev\) = 1: must be in \[0, 0\] \(index j means node j "),
        (5, 3, r"^token 5 \(node 4, prev\) = 3: must be in \[0, 2\] .*reads one of nodes 1..3"),
        (5, -1, r"^token 5 \(node 4, prev\) = -1: must be in \[0, 2\]"),
        (6, 9, r"^token 6 \(node 4, activation\) = 9: .*\(0 tanh, 1 relu, 2 sigmoid, 3 ident"),
        (3, 0.5, r"^token 3 \(node 3, prev\) = 0.5: must be an integer in \[0, 1\]"),
        (4, True, r"^token 4 \(node 3, activation\) = True: must be an activation id"),
        (2, "1", r"^token 2 \(node 2, activation\) = '1': must be an activation id"),
    ],
)
def test_token_errors_name_position_node_and_field(position, value, match):
    tokens = [0, 0, 1, 1, 2, 0, 3]  # 4 nodes
    assert rnn.tokens_are_valid(tokens, 4)
    tokens[position] = value
    with pytest.raises(ArcError, match=match):
        rnn.RnnArc.from_tokens(tokens, 4)
    assert not rnn.tokens_are_valid(tokens, 4)


def test_token_length_errors():
    tokens = PAPER_CELL.to_tokens()
    with pytest.raises(ArcError, match=r"expected 21 tokens for num_nodes=11 .* got 23"):
        rnn.RnnArc.from_tokens(tokens, 11)
    with pytest.raises(
        ArcError,
        match=r"^got 22 tokens: an rnn arc of N nodes has 2N - 1 .* fits no N "
        r"\(21 for 11 nodes, 23 for 12 nodes\)",
    ):
        rnn.RnnArc.from_tokens(tokens[:-1])
    with pytest.raises(ArcError, match=r"got 0 tokens: .* fits no N \(1 for 1 node\)$"):
        rnn.RnnArc.from_tokens([])
    with pytest.raises(ArcError, match=r"expected 1 tokens for num_nodes=1 \(node 1: activation\)"):
        rnn.RnnArc.from_tokens([0, 0, 1], 1)
    with pytest.raises(ArcError, match="num_nodes=0: must be an integer >= 1"):
        rnn.RnnArc.from_tokens([], 0)
    with pytest.raises(ArcError, match="1-D"):
        rnn.RnnArc.from_tokens(np.zeros([1, 3], np.int32))
    with pytest.raises(ArcError, match="sequence of integers"):
        rnn.RnnArc.from_tokens("0 0 1")


def test_enas_lm_errors():
    with pytest.raises(
        ArcError, match=r"^enas_lm integer 4 \(node 4, prev\) = 3: must be in \[0, 2\]"
    ):
        rnn.RnnArc.from_enas_lm([0, 2, 1, 0, 3, 1])
    with pytest.raises(
        ArcError, match=r"^enas_lm integer 1 \(node 2, activation\) = 4: must be an activation"
    ):
        rnn.RnnArc.from_enas_lm([0, 4])
    with pytest.raises(ArcError, match=r"^enas_lm integers got 3 numbers: enas_lm needs \(prev_"):
        rnn.RnnArc.from_enas_lm([0, 2, 1])
    with pytest.raises(ArcError, match=r"^enas_lm integers got 0 numbers: .* at least one"):
        rnn.RnnArc.from_enas_lm([])
    with pytest.raises(
        ArcError, match=r"^node 1, activation='relu': enas_lm's input node always uses tanh"
    ):
        _arc("relu", (1, "tanh")).to_enas_lm()
    with pytest.raises(ArcError, match=r"^node 1, activation='sigmoid'"):
        _arc("sigmoid", (1, "tanh")).to_string()
    with pytest.raises(ArcError, match=r"^a 1-node arc has no enas_lm form"):
        _arc("tanh").to_enas_lm()


def test_string_errors():
    with pytest.raises(ArcError, match=r"^enas_lm string, number 2 = 'x': not an integer"):
        rnn.RnnArc.from_string("0 1 x 2")
    with pytest.raises(ArcError, match=r"^enas_lm string has 5 numbers: enas_lm needs"):
        rnn.RnnArc.from_string("0 2 1 0 2")
    with pytest.raises(ArcError, match=r"^enas_lm string has 0 numbers"):
        rnn.RnnArc.from_string("  ")
    with pytest.raises(
        ArcError,
        match=r"^enas_lm string, number 2 \(node 3, prev\) = 2: must be in \[0, 1\] \(index j "
        r"means node j \+ 1; node 3 reads one of nodes 1..2\)$",
    ):
        rnn.RnnArc.from_string("0 2 2 0")
    with pytest.raises(ArcError, match=r"enas_lm string: expected a string of integers, got list"):
        rnn.RnnArc.from_string([0, 1])


def test_objects_cannot_be_built_invalid():
    with pytest.raises(ArcError, match=r"^activation='softplus': must be one of tanh, relu, sig"):
        rnn.RnnNode(0, "softplus")
    with pytest.raises(ArcError, match=r"^activation=1: must be one of"):
        rnn.RnnNode(0, 1)
    with pytest.raises(ArcError, match=r"^prev=-1: must be an integer node number >= 0"):
        rnn.RnnNode(-1, "tanh")
    with pytest.raises(ArcError, match=r"^prev=True: must be an integer node number"):
        rnn.RnnNode(True, "tanh")
    with pytest.raises(ArcError, match=r"^node 1, prev=1: must be 0 \(node 1 reads the cell inp"):
        rnn.RnnArc((rnn.RnnNode(1, "tanh"),))
    with pytest.raises(ArcError, match=r"^node 3, prev=3: must be in \[1, 2\] \(an earlier node\)"):
        _arc("tanh", (1, "tanh"), (3, "tanh"))
    with pytest.raises(ArcError, match=r"^node 2, prev=0: must be in \[1, 1\]"):
        _arc("tanh", (0, "tanh"))
    with pytest.raises(ArcError, match="no nodes: needs at least 1"):
        rnn.RnnArc(())
    with pytest.raises(ArcError, match=r"^node 2: expected an RnnNode, got str"):
        rnn.RnnArc((rnn.RnnNode(0, "tanh"), "tanh"))
    assert isinstance(ArcError("x"), ValueError)


def _named(*nodes):
    return {"space": "rnn", "version": 1, "nodes": list(nodes)}


@pytest.mark.parametrize(
    "change,match",
    [
        ({"activation": "ReLU"}, r"^node 3, activation='ReLU': must be one of tanh, relu"),
        ({"prev": 3}, r"^node 3, prev=3: must be in \[1, 2\] \(an earlier node\)"),
        ({"prev": 0}, r"^node 3, prev=0: must be in \[1, 2\]"),
        ({"prev": "2"}, r"^node 3, prev='2': must be an integer in \[1, 2\]"),
        ({"node": 2}, r"entry 2 says node=2 but entry 2 is node 3: list the nodes in order"),
        ({"op": "relu"}, r"^node 3: unknown field\(s\) \['op'\]; expected prev, activation"),
    ],
)
def test_json_node_errors_name_node_and_field(change, match):
    data = _named(
        {"node": 1, "prev": 0, "activation": "tanh"},
        {"node": 2, "prev": 1, "activation": "relu"},
        {"node": 3, "prev": 1, "activation": "tanh", **change},
    )
    with pytest.raises(ArcError, match=match):
        rnn.RnnArc.from_json(data)


def test_json_structure_errors():
    data = LM_CELL.to_json()
    edited = json.loads(json.dumps(data))
    edited["nodes"][4]["activation"] = "relu"  # the string still says sigmoid
    with pytest.raises(
        ArcError,
        match=r"^enas_lm_string disagrees with the named nodes \(node 5: enas_lm_string has "
        r"prev=3 activation='sigmoid', the named nodes prev=3 activation='relu'\): fix or delete",
    ):
        rnn.RnnArc.from_json(edited)
    short = {**data, "enas_lm_string": "0 2"}
    with pytest.raises(ArcError, match=r"\(enas_lm_string has 2 nodes, the named nodes 9\)"):
        rnn.RnnArc.from_json(short)
    with pytest.raises(ArcError, match=r"num_nodes=12 but the arc has 9 nodes"):
        rnn.RnnArc.from_json({**data, "num_nodes": 12})
    with pytest.raises(ArcError, match=r"missing 'nodes' \(named nodes\) and 'enas_lm_string'"):
        rnn.RnnArc.from_json({"space": "rnn", "version": 1})
    missing = json.loads(json.dumps(data))
    del missing["nodes"][0]["prev"]
    with pytest.raises(ArcError, match=r"^node 1: missing field 'prev'"):
        rnn.RnnArc.from_json(missing)
    first = json.loads(json.dumps(data))
    first["nodes"][0]["prev"] = 1
    with pytest.raises(ArcError, match=r"^node 1, prev=1: must be 0"):
        rnn.RnnArc.from_json(first)
    with pytest.raises(ArcError, match=r"nodes: expected a non-empty list of nodes"):
        rnn.RnnArc.from_json(_named())
    with pytest.raises(ArcError, match=r"^node 2: expected an object with prev, activation"):
        rnn.RnnArc.from_json(_named({"prev": 0, "activation": "tanh"}, [1, "relu"]))
    with pytest.raises(ArcError, match=r"enas_lm_string: expected a string, got list"):
        rnn.RnnArc.from_json({"space": "rnn", "version": 1, "enas_lm_string": [0, 1]})
    with pytest.raises(ArcError, match=r"^enas_lm string, number 1 \(node 2, activation\) = 7"):
        rnn.RnnArc.from_json({"space": "rnn", "version": 1, "enas_lm_string": "0 7"})


def test_from_json_checks_space_and_version():
    data = LM_CELL.to_json()
    with pytest.raises(ArcError, match=r"space='micro': this reader handles space='rnn' arcs"):
        rnn.RnnArc.from_json({**data, "space": "micro"})
    with pytest.raises(ArcError, match=r"version=2: this code reads rnn arcs of version 1"):
        rnn.RnnArc.from_json({**data, "version": 2})
    with pytest.raises(ArcError, match=r"JSON form is an object, got list"):
        rnn.RnnArc.from_json([data])
    assert arc_io.arc_from_json(data) == LM_CELL  # dispatched on "space"
    assert arc_io.SPACES["rnn"] is rnn.RnnArc


def test_load_errors(tmp_path):
    macro_path = tmp_path / "macro.json"
    arc_io.save_arc(arc_io.load_arc("enas_macro_final"), str(macro_path))
    with pytest.raises(ArcError, match=r"holds an arc of space 'macro', expected space 'rnn'"):
        arc_io.load_arc(str(macro_path), space="rnn")
    with pytest.raises(ArcError, match=r"holds an arc of space 'rnn', expected space 'micro'"):
        arc_io.load_arc("enas_lm_cell", space="micro")
    invalid = tmp_path / "invalid.json"
    data = LM_CELL.to_json()
    del data["enas_lm_string"]
    data["nodes"][3]["prev"] = 4
    invalid.write_text(json.dumps(data))
    with pytest.raises(ArcFileError, match=f"{invalid}: node 4, prev=4: must be in \\[1, 3\\]"):
        arc_io.load_arc(str(invalid))

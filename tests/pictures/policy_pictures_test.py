"""Tests for enas_tf.pictures.policy_pictures: cutting the controller's choice_probs into panels."""

import numpy as np
import pytest

from enas_tf.pictures import arc_pictures, policy_pictures
from enas_tf.spaces import decisions, macro, micro, rnn

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _one_hot(width, index):
    out = np.zeros(width)
    out[index] = 1.0
    return out


def _by_name(panels):
    return {panel.name: panel for panel in panels}


# The probs vectors below are written out from each space's documented decision order (not from
# the module's own slicing), with a different known value at every decision.


def _micro_probs(num_nodes):
    """Normal cell: one-hot (operand a reads node k - 1, b reads node 0; op a = k % 5, op b =
    (k + 1) % 5). Reduction cell: uniform inputs and ops."""
    parts = []
    for cell in micro.CELLS:
        for k in range(2, num_nodes + 2):
            if cell == "normal":
                parts += [_one_hot(k, k - 1), _one_hot(5, k % 5)]
                parts += [_one_hot(k, 0), _one_hot(5, (k + 1) % 5)]
            else:
                parts += [np.full(k, 1 / k), np.full(5, 0.2)] * 2
    return np.concatenate(parts)


def test_micro_panels_put_every_probability_in_its_cell():
    num_nodes = 3
    panels = policy_pictures.split_choice_probs(
        micro.decision_program(num_nodes), _micro_probs(num_nodes), micro.choice_panels(num_nodes)
    )
    named = _by_name(panels)
    assert list(named) == ["normal_inputs", "normal_ops", "reduction_inputs", "reduction_ops"]
    inputs, ops = named["normal_inputs"], named["normal_ops"]
    assert inputs.row_labels == (
        "node 2 a",
        "node 2 b",
        "node 3 a",
        "node 3 b",
        "node 4 a",
        "node 4 b",
    )
    assert inputs.col_labels == ("c_{k-2}", "c_{k-1}", "2", "3")
    assert ops.col_labels == micro.OPS and ops.matrix.shape == (6, 5)
    for k in range(2, num_nodes + 2):
        a, b = 2 * (k - 2), 2 * (k - 2) + 1
        np.testing.assert_array_equal(inputs.matrix[a, :k], _one_hot(k, k - 1))
        np.testing.assert_array_equal(inputs.matrix[b, :k], _one_hot(k, 0))
        assert np.isnan(inputs.matrix[[a, b], k:]).all()  # node k cannot read node >= k
        np.testing.assert_array_equal(ops.matrix[a], _one_hot(5, k % 5))
        np.testing.assert_array_equal(ops.matrix[b], _one_hot(5, (k + 1) % 5))
        row = named["reduction_inputs"].matrix[a]
        np.testing.assert_allclose(row[:k], 1 / k)
        assert np.isnan(row[k:]).all()
    for panel in panels:
        assert panel.categorical
        np.testing.assert_allclose(np.nansum(panel.matrix, axis=1), 1.0)


def test_macro_panels_hold_ops_and_skip_probabilities():
    num_layers, names = 5, macro.parse_ops("0,1,2,3")
    skip = {(k, j): 0.1 * k + 0.01 * j for k in range(2, num_layers + 1) for j in range(k - 1)}
    parts = []
    for k in range(1, num_layers + 1):
        parts.append(_one_hot(4, k % 4))
        if k > 1:
            parts.append(np.array([skip[(k, j)] for j in range(k - 1)]))
    probs = np.concatenate(parts)
    program = macro.decision_program(num_layers, len(names))
    panels = _by_name(
        policy_pictures.split_choice_probs(program, probs, macro.choice_panels(num_layers, names))
    )
    assert list(panels) == ["macro_ops", "macro_skips"]
    ops, skips = panels["macro_ops"], panels["macro_skips"]
    assert ops.col_labels == names and ops.row_labels[0] == "layer 1"
    for k in range(1, num_layers + 1):
        np.testing.assert_array_equal(ops.matrix[k - 1], _one_hot(4, k % 4))
    assert skips.matrix.shape == (num_layers - 1, num_layers - 1)
    assert skips.row_labels == ("layer 2", "layer 3", "layer 4", "layer 5")
    assert skips.col_labels == ("stem", "1", "2", "3")
    assert not skips.categorical
    for k in range(2, num_layers + 1):
        for j in range(num_layers - 1):
            value = skips.matrix[k - 2, j]
            assert value == pytest.approx(skip[(k, j)]) if j < k - 1 else np.isnan(value)


def test_macro_with_one_layer_has_no_skip_panel():
    panels = policy_pictures.split_choice_probs(
        macro.decision_program(1), np.full(6, 1 / 6), macro.choice_panels(1, macro.OPS)
    )
    assert [p.name for p in panels] == ["macro_ops"]


def test_rnn_panels_hold_previous_nodes_and_activations():
    num_nodes = 4
    parts = [_one_hot(4, 3)]  # node 1: identity
    for number in range(2, num_nodes + 1):
        parts += [np.full(number - 1, 1 / (number - 1)), _one_hot(4, number % 4)]
    program = rnn.decision_program(num_nodes)
    panels = _by_name(
        policy_pictures.split_choice_probs(
            program, np.concatenate(parts), rnn.choice_panels(num_nodes)
        )
    )
    prev, act = panels["rnn_prev"], panels["rnn_activation"]
    assert prev.row_labels == ("node 2", "node 3", "node 4")
    assert prev.col_labels == ("1", "2", "3")
    expected_prev = np.array([[1, np.nan, np.nan], [0.5, 0.5, np.nan], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(prev.matrix, expected_prev)  # NaNs must match too
    assert act.col_labels == rnn.ACTIVATIONS
    np.testing.assert_array_equal(act.matrix[0], _one_hot(4, 3))
    for number in range(2, num_nodes + 1):
        np.testing.assert_array_equal(act.matrix[number - 1], _one_hot(4, number % 4))


def test_samples_are_averaged():
    program = rnn.decision_program(2)  # 4 + 1 + 4 outcomes
    first, second = np.zeros(9), np.zeros(9)
    first[[0, 4, 5]] = second[[1, 4, 8]] = 1.0
    panels = policy_pictures.split_choice_probs(
        program, np.stack([first, second]), rnn.choice_panels(2)
    )
    act = _by_name(panels)["rnn_activation"]
    np.testing.assert_allclose(act.matrix, [[0.5, 0.5, 0, 0], [0.5, 0, 0, 0.5]])


def test_wrong_length_names_both_numbers():
    program = micro.decision_program(2)  # 2 cells x (2 + 5 + 2 + 5 + 3 + 5 + 3 + 5) = 60
    with pytest.raises(ValueError, match=r"59\b.*\b60\b"):
        policy_pictures.split_choice_probs(program, np.zeros(59), micro.choice_panels(2))


def test_other_mistakes_are_value_errors():
    program = micro.decision_program(2)
    probs = np.zeros(60)
    with pytest.raises(ValueError, match="panels of the space and size"):  # another size
        policy_pictures.split_choice_probs(program, probs, micro.choice_panels(3))
    with pytest.raises(ValueError, match="panels of the space and size"):  # another space
        policy_pictures.split_choice_probs(program, probs, rnn.choice_panels(5))
    with pytest.raises(ValueError, match="normal_ops: decision 1 has 5 options .* 3 columns"):
        policy_pictures.split_choice_probs(program, probs, micro.choice_panels(2, micro.OPS[:3]))
    program = macro.decision_program(3)  # all 6 ops, panels of a 4-op restriction
    with pytest.raises(ValueError, match="parse_ops"):
        policy_pictures.split_choice_probs(
            program, np.zeros(21), macro.choice_panels(3, macro.OPS[:4])
        )


@pytest.mark.parametrize("space", ["micro", "macro", "rnn"])
def test_heatmaps_decode(space):
    module, size = {"micro": (micro, 2), "macro": (macro, 4), "rnn": (rnn, 3)}[space]
    program = module.decision_program(size)
    width = sum(decisions.num_outcomes(step) for step in program)
    probs = np.random.default_rng(0).random(width)
    for panel in policy_pictures.split_choice_probs(program, probs, module.choice_panels(size)):
        png = policy_pictures.heatmap_png(panel, title=f"{space} step 7")
        assert png.startswith(PNG_SIGNATURE)
        image = policy_pictures.heatmap_tensor(panel, title=f"{space} step 7")
        assert image.dtype == np.uint8 and image.shape[0] == 1 and image.shape[3] == 3
        assert 150 <= image.shape[1] <= 3000 and 150 <= image.shape[2] <= 3000
        np.testing.assert_array_equal(image, arc_pictures.png_to_image_tensor(png))


def test_large_panel_draws_without_annotations():
    program = macro.decision_program(24, 4)
    width = sum(decisions.num_outcomes(step) for step in program)
    panels = policy_pictures.split_choice_probs(
        program, np.full(width, 0.25), macro.choice_panels(24, macro.OPS[:4])
    )
    skips = _by_name(panels)["macro_skips"]
    assert skips.matrix.shape == (23, 23)
    image = policy_pictures.heatmap_tensor(skips)
    assert image.shape[1] > 400 and image.shape[2] > 800

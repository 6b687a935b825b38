"""Tests of enas_tf.spaces.registry: the one place that maps a space name to what it does."""

import numpy as np
import pytest

from configs import tiny
from enas_tf import config as config_lib
from enas_tf.errors import ArcError
from enas_tf.spaces import macro, micro, registry, rnn


@pytest.mark.parametrize("space", ["micro", "macro", "rnn"])
def test_tokens_and_arcs_convert_both_ways(space):
    config = tiny.get_config(f"space={space}")
    search_space = registry.of(config)
    rng = np.random.default_rng(0)
    for _ in range(5):
        arc = search_space.sample_random_arc(rng)
        assert isinstance(arc, search_space.arc_class)
        assert arc.space == space == search_space.name
        tokens = search_space.supernet_tokens(arc)
        assert search_space.arc_from_tokens(tokens) == arc
        assert registry.describe_arc(arc)
        table = registry.arc_markdown(arc).split("\n")
        assert table[0].startswith("| ") and table[1].startswith("|---|"), table
        assert registry.arc_markdown(arc) == search_space.arc_markdown(arc)
        columns = registry.arc_columns(arc)
        assert columns == search_space.arc_columns(arc)
        assert not any("|" in value or "\n" in value for value in columns.values())


def test_micro_operand_order_is_one_network_and_other_spaces_keep_their_tokens():
    config = tiny.get_config("space=micro")
    config.search.model.num_nodes = 2
    space = registry.of(config)
    # node 2 = sep3(x0) + max(x1) written both ways; node 3 and the reduction cell differ.
    one = [0, 0, 1, 3, 0, 4, 2, 1] + [1, 2, 0, 2, 2, 0, 1, 1]
    swapped = [1, 3, 0, 0, 0, 4, 2, 1] + [0, 2, 1, 2, 1, 1, 2, 0]
    other = [0, 0, 1, 3, 0, 4, 2, 1] + [1, 2, 0, 2, 2, 0, 1, 2]
    assert space.canonical_key(one) == space.canonical_key(swapped)
    assert space.canonical_key(one) != space.canonical_key(other)
    rnn_space = registry.of(tiny.get_config("space=rnn"))
    tokens = rnn_space.supernet_tokens(rnn_space.sample_random_arc(np.random.default_rng(0)))
    assert rnn_space.canonical_key(tokens) == tuple(tokens)


def test_macro_tokens_follow_the_op_restriction():
    config = config_lib.macro_base_config()
    config.search.model.num_layers = 3
    config.search.model.ops = "max_pool_3x3,conv_3x3"
    search_space = registry.of(config)
    assert search_space.ops == search_space.choice_names() == ("conv_3x3", "max_pool_3x3")
    arc = macro.MacroArc.from_string("5 0 1 5 1 0")  # original ids: max pool, conv, max pool
    assert search_space.supernet_tokens(arc) == [1, 0, 1, 1, 1, 0]
    program = search_space.decision_program()
    assert program[0].num_ops == 2
    with pytest.raises(ArcError, match="sep_conv_3x3"):
        search_space.supernet_tokens(macro.MacroArc.from_string("1 0 1 5 1 0"))


def test_an_arc_of_the_other_space_is_refused_with_both_names():
    config = tiny.get_config("space=macro")
    with pytest.raises(ArcError, match=r"'micro' architecture but config.space='macro'"):
        registry.of(config).check_arc(micro.PUBLISHED["enas_micro_final"])
    with pytest.raises(ArcError, match=r"'macro' architecture but config.space='micro'"):
        registry.of(tiny.get_config()).build_child(
            macro.PUBLISHED["enas_macro_final"], num_classes=10, image_shape=(8, 8, 3)
        )


def test_every_space_names_its_task_and_its_choices():
    assert registry.names() == ("micro", "macro", "rnn")
    assert set(registry.names()) == set(config_lib.SPACES)
    tasks = {space: registry.task_class(space).__name__ for space in registry.names()}
    assert tasks == {"micro": "ImageTask", "macro": "ImageTask", "rnn": "LmTask"}
    assert registry.of(tiny.get_config("space=rnn")).choice_names() == tuple(rnn.ACTIVATIONS)
    assert registry.of(tiny.get_config("space=micro")).choice_names() == tuple(micro.OPS)


@pytest.mark.parametrize(
    "space, published, key",
    [("micro", "enas_micro_final", "num_nodes"), ("macro", "enas_macro_final", "num_layers")],
)
def test_an_arc_of_another_size_is_noted_not_refused(space, published, key):
    config = tiny.get_config(f"space={space}")
    arc = {"micro": micro, "macro": macro}[space].PUBLISHED[published]
    searched = registry.of(config)
    note = searched.arc_size_note(arc)
    size = getattr(arc, key)
    assert note.startswith(f"the arc has {key}={size} but config.search.model.{key}=")
    assert f"retrained at its own size ({key}={size})" in note
    with config.unlocked():
        config.search.model[key] = size
    assert registry.of(config).arc_size_note(arc) is None


def test_search_space_sizes_are_the_spaces_counts():
    config = tiny.get_config("space=rnn")
    assert registry.of(config).size() == rnn.search_space_size(config.search.model.num_nodes)
    config = tiny.get_config("space=micro")
    assert registry.of(config).size() == micro.search_space_size(config.search.model.num_nodes)


@pytest.mark.slow
@pytest.mark.parametrize("num_layers,same", [(3, True), (6, False)])
def test_with_one_normal_cell_per_stage_reading_input_0_skips_the_reduction_cells(num_layers, same):
    # Why two micro arcs with different reduction cells retrained identically (BUILD_NOTES,
    # session 10): with one normal cell per stage, a normal cell that reads only its input 0
    # (the cell before last) reads past each reduction cell, whose output no cell then uses.
    # With two normal cells per stage the second one reads the reduction cell: they differ.
    import keras
    import tensorflow as tf

    config = tiny.get_config()
    model_config = config.retrain.model.copy_and_resolve_references()
    with model_config.unlocked():
        model_config.num_layers = num_layers
    space = registry.of(config)
    normal = [0, 3, 0, 4]  # node 2: max pool of input 0 + identity of input 0
    images = tf.random.stateless_normal((2, 12, 12, 3), seed=[0, 1])
    outputs = []
    # Weightless reduction ops, so that both children draw the same initial weights.
    for reduction in ([1, 3, 0, 3], [0, 2, 1, 2]):
        keras.utils.set_random_seed(0)
        child = space.build_child(
            space.arc_from_tokens(normal + reduction),
            model_config=model_config,
            num_classes=10,
            image_shape=(12, 12, 3),
        )
        logits = child(images, training=False)
        outputs.append((logits[0] if isinstance(logits, (tuple, list)) else logits).numpy())
    assert np.array_equal(outputs[0], outputs[1]) == same

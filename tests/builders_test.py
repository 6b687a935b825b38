"""Tests of enas_tf.models.builders: the one place that dispatches on config.space."""

import numpy as np
import pytest

from configs import tiny
from enas_tf import configs as config_lib
from enas_tf.errors import ArcError
from enas_tf.models import builders
from enas_tf.spaces import macro, micro


@pytest.mark.parametrize("space", ["micro", "macro"])
def test_tokens_and_arcs_convert_both_ways(space):
    config = tiny.get_config(f"space={space}")
    rng = np.random.default_rng(0)
    for _ in range(5):
        arc = builders.sample_random_arc(config, rng)
        assert isinstance(arc, builders.ARC_CLASSES[space])
        tokens = builders.supernet_tokens(config, arc)
        assert builders.arc_from_tokens(config, tokens) == arc
        assert builders.describe_arc(arc)
        assert builders.arc_markdown(arc)


def test_macro_tokens_follow_the_op_restriction():
    config = config_lib.macro_base_config()
    config.search.model.num_layers = 3
    config.search.model.ops = "max_pool_3x3,conv_3x3"
    assert builders.macro_ops(config) == ("conv_3x3", "max_pool_3x3")
    arc = macro.MacroArc.from_string("5 0 1 5 1 0")  # original ids: max pool, conv, max pool
    assert builders.supernet_tokens(config, arc) == [1, 0, 1, 1, 1, 0]
    program = builders.decision_program(config)
    assert program[0].num_ops == 2
    with pytest.raises(ArcError, match="sep_conv_3x3"):
        builders.supernet_tokens(config, macro.MacroArc.from_string("1 0 1 5 1 0"))


def test_an_arc_of_the_other_space_is_refused_with_both_names():
    config = tiny.get_config("space=macro")
    with pytest.raises(ArcError, match=r"'micro' architecture but config.space='macro'"):
        builders.check_arc(config, micro.PUBLISHED["enas_micro_final"])
    with pytest.raises(ArcError, match=r"'macro' architecture but config.space='micro'"):
        builders.build_child(tiny.get_config(), macro.PUBLISHED["enas_macro_final"], 10, (8, 8, 3))

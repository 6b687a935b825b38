"""One traced function shared by every call site of a routed switch, per compilation context.

The supernets call the same switch (one micro node side's op, one macro layer's op, an input
selection) from many places with the same shapes. Tracing it once as a `tf.function` and
calling it everywhere keeps the step's graph from growing with cells x nodes x sides (issue #12,
BUILD_NOTES.md). Marked `_noinline`, it also stays a function call at run time: inlined into
every call site, TensorFlow lowered every copy of every switch into the main graph and the
paper micro model's first step spent ~45 s building that executor.

A traced function must not be shared between an XLA-compiled step and a plain one: its
gradient is built once per traced function, and a switch's gradient outside XLA keeps
intermediates in optionals, which XLA cannot compile (found by the macro XLA test when the
plain pipeline had traced the function first in the same process). So there is one traced
function per context: plain, or inside XLA.
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow.python.ops import control_flow_util  # the test cond_v2 itself uses

_NO_INLINE = {"_noinline": True}


def in_xla_context() -> bool:
    """Whether the graph being built (or one it is nested in) is XLA-compiled."""
    return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


def shared(python_function):
    """Wraps `python_function` to run through one traced function per context.

    Eagerly (e.g. a model's first, variable-creating call) it runs as plain Python: there is
    nothing to share.
    """
    traced = {}

    def call(*args):
        if tf.executing_eagerly():
            return python_function(*args)
        xla = in_xla_context()
        if xla not in traced:
            traced[xla] = tf.function(
                python_function, autograph=False, experimental_attributes=_NO_INLINE
            )
        return traced[xla](*args)

    call.__doc__ = python_function.__doc__
    call.traced = traced  # for tests
    return call

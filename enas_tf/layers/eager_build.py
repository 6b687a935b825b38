"""A Keras layer that builds its sublayers on its first eager call, with no scratch trace.

Keras 3 builds a layer without a `build` method of its own by first tracing its whole `call`
in a scratch graph (`compute_output_spec`) to infer shapes, and only then runs it. For a
network of many layers that trace is a second construction of the whole model: for the paper
micro supernet it was most of the ~4 s its construction took (issue #27, BUILD_NOTES.md). The
networks here create their variables in their sublayers, which build themselves when the
network's first (eager) call reaches them, so the scratch trace has nothing to add.
"""

from __future__ import annotations

import keras


class BuiltByFirstCall(keras.layers.Layer):
    """A layer whose sublayers create every variable; it has none of its own to build."""

    def build(self, input_shape=None):
        """Nothing to create: each sublayer builds on the first call (module docstring)."""
        del input_shape

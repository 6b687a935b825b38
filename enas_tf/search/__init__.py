"""The ENAS search (paper 2.2): alternate training the shared weights and the controller.

* `run`: `Search`, the eager driver of the search's epochs (child phase, controller phase,
  check), its checkpoints and logs.
* `steps`: the search state and its compiled steps (child update, controller update, score).
* `check`: the policy-vs-random check every epoch and derive run.
* `reports`: the check's log lines, TensorBoard summaries and `search/checks.json`.
"""

from enas_tf.search.run import Search
from enas_tf.search.steps import build_controller

__all__ = ["Search", "build_controller"]

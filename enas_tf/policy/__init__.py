"""The controller and how it learns (paper 2.1-2.2).

* `controller`: the LSTM policy; `sample()` gives int32 tokens, log-probability and entropy.
* `program_check`: the controller's static reading of a decision program (checks, weights it
  needs, config form).
* `distributions`: stateless Philox sampling and the log-probability / entropy terms.
* `reinforce`: reward shaping, the moving-average baseline, the REINFORCE loss.
* `controller_training`: the compiled REINFORCE update over `num_aggregate` sampled arcs.
* `random_policy`: uniform sampling of a decision program (the random-search baseline).
* `controller_probe`: known rewards to check that a policy learns (tests, bench).
"""

"""REINFORCE pieces for training the ENAS controller (pure functions, no state, no optimizer).

The controller maximises E_{m ~ pi(m; theta)}[R(m, w)] (Pham et al. 2018, Section 2.2) with the
score-function estimator `(R - b) * grad log pi(m)`, a moving-average baseline `b` to reduce
variance, the policy entropy added to the reward, and (macro space) a KL penalty pulling each
skip-connection probability towards a prior `rho = 0.4`.

A controller step, as the authors' code orders it:
```
reward = shaped_reward(accuracy, entropy, entropy_weight)
baseline.assign(update_baseline(baseline, reward, decay))       # baseline first ...
loss = reinforce_loss(log_prob, reward, baseline)               # ... then the advantage
loss += skip_weight * skip_kl_penalty(skip_probs)               # macro space only
```
Averaging the gradients of several sampled architectures (`num_aggregate`) is the caller's job.
"""

from __future__ import annotations

from typing import Union

import keras
import tensorflow as tf

TensorLike = Union[tf.Tensor, tf.Variable, float]


def update_baseline(baseline: TensorLike, reward: TensorLike, decay: float) -> tf.Tensor:
    """Exponential moving average of the reward: `b - (1 - decay) * (b - reward)`.

    Returns the new value; the caller assigns it (keeps this function pure, so it works on a
    `tf.Variable`, a mirrored variable or a plain float). Following the authors' code, update the
    baseline with the current reward *before* computing the advantage `reward - baseline`; the
    current reward then enters its own baseline with weight `1 - decay`, which slightly shrinks
    the advantage but never flips its sign.

    Args:
      baseline: current baseline value (float32 scalar).
      reward: this step's (shaped) reward; its gradient is stopped.
      decay: EMA decay `d` in [0, 1) (authors' code: 0.99).
    """
    baseline = tf.convert_to_tensor(baseline, tf.float32)
    reward = tf.stop_gradient(tf.convert_to_tensor(reward, tf.float32))
    return baseline - (1.0 - decay) * (baseline - reward)


def reinforce_loss(log_prob: TensorLike, reward: TensorLike, baseline: TensorLike) -> tf.Tensor:
    """The REINFORCE surrogate loss `-(R - b) * log pi(m)`.

    Its gradient is minus the policy-gradient estimate, so minimising it with any optimizer
    raises the probability of architectures whose reward beats the baseline. The advantage is a
    constant (stop_gradient) so no gradient leaks into the reward or the baseline.
    """
    advantage = tf.stop_gradient(
        tf.convert_to_tensor(reward, tf.float32) - tf.convert_to_tensor(baseline, tf.float32)
    )
    return -advantage * tf.convert_to_tensor(log_prob, tf.float32)


def shaped_reward(
    accuracy_or_reward: TensorLike, entropy: TensorLike, entropy_weight: float
) -> tf.Tensor:
    """Reward plus `entropy_weight * entropy`, the paper's guard against premature convergence.

    The entropy enters as a constant bonus on the reward (as in the paper and the authors' code),
    not as a differentiable regulariser: its gradient is stopped.
    """
    bonus = entropy_weight * tf.stop_gradient(tf.convert_to_tensor(entropy, tf.float32))
    return tf.convert_to_tensor(accuracy_or_reward, tf.float32) + bonus


def skip_kl_penalty(skip_probs: TensorLike, target: float = 0.4) -> tf.Tensor:
    """Mean over skip decisions of KL(Bernoulli(p) || Bernoulli(target)) (macro space).

    Differentiable in `skip_probs`: add `skip_weight * penalty` to the controller *loss*
    (authors' code, weight 0.8; the paper's "added to the reward" means it is penalised). We use
    the mean over all Bernoulli decisions so the scale does not grow with the number of layers;
    the authors' code takes the mean over layers of the per-layer sum, i.e. roughly
    `(L - 1) / 2` times ours for L layers, so scale `skip_weight` accordingly to match it.

    Args:
      skip_probs: float32 [S], P(skip = 1) per decision (`PolicyOutput.skip_probs`).
      target: prior probability of a skip connection (paper: rho = 0.4), in (0, 1).

    Returns:
      A float32 scalar; 0.0 when `skip_probs` is empty.
    """
    if not 0.0 < target < 1.0:
        raise ValueError(f"target must be in (0, 1), got {target}")
    p = tf.reshape(tf.convert_to_tensor(skip_probs, tf.float32), [-1])
    eps = 1e-7  # keeps log finite when a probability saturates to 0 or 1.
    p = tf.clip_by_value(p, eps, 1.0 - eps)
    kl = p * tf.math.log(p / target) + (1.0 - p) * tf.math.log((1.0 - p) / (1.0 - target))
    count = tf.cast(tf.size(kl), tf.float32)
    return tf.math.divide_no_nan(tf.reduce_sum(kl), count)


def make_controller_optimizer(
    learning_rate: Union[float, keras.optimizers.schedules.LearningRateSchedule],
) -> keras.optimizers.Adam:
    """Adam with the authors' controller settings: beta_1 = 0, epsilon = 1e-3.

    beta_1 = 0 drops momentum: REINFORCE gradients are noisy and change sign often, so
    momentum would keep pushing towards stale architectures. The large epsilon damps steps on
    weights whose gradients are tiny. (Keras's epsilon is the "epsilon hat" of Kingma & Ba, as
    in the TF1 optimizer the authors used, so the value carries over.)
    """
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.0, epsilon=1e-3)

"""Derive an architecture from a trained controller (paper 2.2, "Deriving Architectures").

Sample K arcs from the policy, score each on the same validation minibatch with the shared
weights (the paper's single minibatch; `derive.num_batches` averages over more of them, which
makes the pick and derive's check less dependent on one minibatch's class mix), keep the best
(by the task's score, or with `derive.rank_by=loss` by the mean validation cross-entropy,
which orders candidates whose accuracies tie within a few images).
All candidates and their scores go to `candidates.json`; the best to `arc.json` (the readable
form plus the original code's integer strings), drawn as `arc.png` and `arc.dot` beside it.

Derive also runs the policy-vs-random check once more (`enas_tf.search.check`): K uniformly
random arcs and K samples of the controller's initial policy, scored on the same minibatch with
the same weights as the K candidates, so `candidates.json` says whether the candidates beat
chance picks and the untrained controller's picks ("check"), next to the search's per-epoch
checks ("search_checks"). Under `search.policy=random` the candidates themselves are
uniform samples: random search with the shared weights as its evaluator.
"""

from __future__ import annotations

import os

import tensorflow as tf
from absl import logging

from enas_tf.board import tags
from enas_tf.pictures import arc_pictures
from enas_tf.runtime import files, replicas, summaries
from enas_tf.search import check as search_check
from enas_tf.search import reports as search_reports
from enas_tf.spaces import arc_io, registry


def derive(config, workdir: str, search):
    """Scores `derive.num_candidates` sampled arcs and writes candidates.json and arc.json.

    Args:
      config: the run config.
      workdir: where the JSON files go.
      search: a restored `enas_tf.search.Search` (its controller and supernet are used).

    Returns:
      The best arc.
    """
    task = search.task
    iterator = iter(
        replicas.distribute_global_batches(
            search.strategy, lambda: task.valid_dataset(shuffle_seed=config.seed)
        )
    )
    batches = [next(iterator) for _ in range(config.derive.num_batches)]
    key_name = f"valid_{task.metric}"
    by_loss = config.derive.get("rank_by", "score") == "loss"
    generator = tf.random.Generator.from_seed(config.seed + 1)
    candidates, seen = [], set()
    for _ in range(config.derive.num_candidates):
        tokens, log_prob, _ = search.steps.sample_arc(generator.make_seeds(1)[:, 0])
        key = registry.of(config).canonical_key(tokens.numpy())
        if key in seen:
            continue  # The policy may sample one network twice (or two encodings of it).
        seen.add(key)
        score = search_check.score_arcs(search.steps.evaluate_arc, batches, [tokens]).mean
        arc = registry.of(config).arc_from_tokens([int(t) for t in tokens.numpy()])
        candidate = {key_name: score, "log_prob": float(log_prob), "arc": arc}
        if by_loss:
            evaluate = search.steps.evaluate_arc_loss
            candidate["valid_loss"] = search_check.score_arcs(evaluate, batches, [tokens]).mean
        candidates.append(candidate)
    check = _check_against_random(config, search, batches, candidates, key_name)
    logging.info("derive check: %s", check.summary())
    sign = -1.0 if task.higher_is_better else 1.0
    if by_loss:
        candidates.sort(key=lambda c: c["valid_loss"])
    else:
        candidates.sort(key=lambda c: sign * c[key_name])
    best = candidates[0]["arc"]
    if not replicas.is_chief(search.strategy):
        return best  # Every worker scored the same arcs; the chief writes the files.
    files.write_json_atomic(
        os.path.join(workdir, "candidates.json"),
        {
            "scored_on": _scored_on(config),
            "ranked_by": "valid_loss" if by_loss else key_name,
            "search_epochs": int(search.state.epoch.numpy()),
            "policy": config.search.policy,
            "check": check.to_json(),
            "search_checks": search_reports.read_checks(workdir),
            "candidates": [
                {
                    "rank": rank,
                    key_name: c[key_name],
                    **({"valid_loss": c["valid_loss"]} if by_loss else {}),
                    "log_prob": c["log_prob"],
                    "arc": c["arc"].to_json(),
                }
                for rank, c in enumerate(candidates, start=1)
            ],
        },
    )
    # Pictures first, arc.json last: a run killed in between derives again on its rerun, so
    # an arc.json never lacks its pictures (`draw_missing` redraws them for older workdirs).
    output = registry.of(config).picture_output_mode()
    ranking = registry.arcs_table(
        [(c[key_name], c["arc"]) for c in candidates], f"valid {task.metric}"
    )
    text = (
        f"**Derived arc**: the best of {len(candidates)} "
        f"{'uniform arcs' if config.search.policy == 'random' else 'policy samples'} by "
        f"{'valid loss' if by_loss else f'valid {task.metric}'} on {_scored_on(config)}."
        f"\n\n**Check**: {check.summary()}\n\n{registry.arc_markdown(best, output)}"
        f"\n\n**Candidates**, best first:\n\n{ranking}"
    )
    _draw(config, workdir, search, best, text)
    arc_io.save_arc(best, os.path.join(workdir, "arc.json"))
    logging.info(
        "derive: best of %d sampled arcs%s has valid-minibatch %s %.4g: %s -> %s",
        len(candidates),
        f" by valid loss ({candidates[0]['valid_loss']:.4g})" if by_loss else "",
        task.metric,
        candidates[0][key_name],
        registry.describe_arc(best),
        os.path.join(workdir, "arc.json"),
    )
    return best


def _scored_on(config) -> str:
    n, size = config.derive.num_batches, config.search.eval_batch_size
    return f"the derive minibatch{'es' if n > 1 else ''} ({n} x {size} examples)"


def _check_against_random(config, search, batches, candidates, key_name):
    """The candidates' scores against as many uniform arcs and initial-policy samples.

    The initial policy's samples are left out when there is no controller (policy=random) or
    the search's checkpoint predates its snapshot (`Search.restore` warned then).
    """
    steps, count = search.steps, len(candidates)
    tokens = search_check.draw_samples(steps.sample_uniform, config.seed * 1_000_003 + 7, count)
    random = search_check.score_arcs(steps.evaluate_arc, batches, tokens)
    policy = search_check.ArcScores(tuple(c[key_name] for c in candidates))
    with_policy = config.search.policy != "random"
    initial = None
    if with_policy and steps.sample_initial is not None:
        outputs = search_check.draw_samples(
            steps.sample_initial, config.seed * 1_000_003 + 11, count
        )
        initial = search_check.score_arcs(
            steps.evaluate_arc, batches, [out.tokens for out in outputs]
        )
    return search_check.CheckResult(
        search.task.metric,
        search.task.higher_is_better,
        _scored_on(config),
        random,
        policy=policy if with_policy else None,
        chance=search.task.chance_score,
        initial=initial,
    )


def _draw(config, workdir, search, arc, text: str) -> None:
    """`arc.png` and `arc.dot` beside arc.json, the picture and `text` in TensorBoard (valid/)."""
    output = registry.of(config).picture_output_mode()
    _summarise(search.writers, int(search.state.child_step.numpy()), arc, output, text)
    png, dot = arc_pictures.save_arc_pictures(arc, workdir, output_mode=output)
    logging.info("derive: drew the arc in %s (Graphviz: %s)", png, dot)


def _summarise(writers, step: int, arc, output_mode: str, text: str) -> None:
    """The derived arc in TensorBoard (valid/): its picture and `text` (tables, check)."""
    with writers.as_default("valid", step):
        image = arc_pictures.arc_image_tensor(arc, output_mode=output_mode)
        tf.summary.image(tags.DERIVED_PICTURE, image)
    # Its own tag: TensorBoard files a tag under the plugin of its first summary, so a text
    # summary under the image's tag would vanish from the text tab and corrupt its step.
    writers.text("valid", step, tags.DERIVED_ARC, text)
    writers.flush()


def draw_missing(config, workdir: str) -> list[str]:
    """Draws the pictures of `workdir/arc.json` that are missing; returns what it drew.

    The pictures are derived from arc.json, so a rerun that keeps arc.json redraws them
    rather than leaving them lost for good: a workdir of an earlier version killed between
    arc.json and its pictures, or a picture deleted. The TensorBoard event files are read for
    the picture only when a file is missing; it goes at the search's last child step, read
    from its checkpoint (0 without one).
    """
    paths = [os.path.join(workdir, name) for name in ("arc.png", "arc.dot")]
    if all(os.path.exists(path) for path in paths):
        return []
    arc = arc_io.load_arc(os.path.join(workdir, "arc.json"))
    output = registry.of(config).picture_output_mode()
    drawn = list(arc_pictures.save_arc_pictures(arc, workdir, output_mode=output))
    if not summaries.has_tag(os.path.join(workdir, "valid"), tags.DERIVED_PICTURE):
        text = f"**Derived arc** (arc.json):\n\n{registry.arc_markdown(arc, output)}"
        _summarise(summaries.Writers(workdir), _last_child_step(workdir), arc, output, text)
        drawn.append(
            os.path.join(workdir, "valid") + f" (TensorBoard image {tags.DERIVED_PICTURE})"
        )
    logging.info("derive: %s had lost its pictures; drew %s", workdir, ", ".join(drawn))
    return drawn


def _last_child_step(workdir: str) -> int:
    """The child step of the newest search checkpoint, read without building the search."""
    path = tf.train.latest_checkpoint(os.path.join(workdir, "search", "ckpt"))
    try:
        reader = tf.train.load_checkpoint(path)
        return int(reader.get_tensor("child_step/.ATTRIBUTES/VARIABLE_VALUE"))
    except (tf.errors.OpError, ValueError, TypeError):  # none, or unreadable: step 0
        return 0

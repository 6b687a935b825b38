"""Checkpoints whose weights are keyed by variable path, and their checked restore.

Keras 3 layers do not expose list-held sub-layers to `tf.train.Checkpoint`, so a model's
weights are saved as a `{variable.path: variable}` dict instead of the object graph. Earlier
versions saved *ordered lists*: a restructured model (issue #12 stacked the supernet's weights)
would then load weights into whichever variables now sat at the same positions, or fail deep
inside TensorFlow. Keyed by path, a mismatch is found before anything is loaded and reported
with the names that differ, and a checkpoint of the old layout is refused with what to do.

Every checkpoint also holds `layout` (an int64 variable, `LAYOUT`), so a later change of the
layout can be recognised the same way.

Random states are saved too (`random_states`: the Keras seed generators of dropout and
drop-path, which `model.weights` leaves out), so a resumed run draws the masks an
uninterrupted one would. They are optional on restore: a checkpoint written before they were
saved still resumes, with a log line saying that those masks start over.

Keyed items added after a run started are optional the same way (`optional`: the search's
snapshot of its initial policy): checked by name when the checkpoint has them, skipped when
it does not; `KeyedCheckpoint.absent` then names them, so the owner can say what is missing and
leave them out of its later checkpoints instead of saving values the run never had.
"""

from __future__ import annotations

import os

import tensorflow as tf
from absl import logging
from tensorflow.core.protobuf import trackable_object_graph_pb2

from enas_tf.errors import CheckpointError, DamagedCheckpointError


def has_checkpoint(directory: str) -> bool:
    """Whether `directory` holds a checkpoint (a `ckpt-N.index` file); local or `gs://`."""
    return bool(tf.io.gfile.glob(os.path.join(directory, "ckpt-*.index")))


LAYOUT = 2  # 1 (unmarked): weights as ordered lists; 2: weights keyed by variable path.


def keyed(variables, what: str) -> dict[str, tf.Variable]:
    """`{key: variable}` for a checkpoint, the key being the variable's path below its owner.

    The first path component (the model's or optimizer's own name) is dropped: Keras makes
    auto-generated names unique per process (`sgd`, `sgd_1`, ...), so a resumed run that
    built a second optimizer would not find its own variables under the first one's name.

    Args:
      variables: Keras (or tf) variables of one model or optimizer.
      what: what they belong to, for the error message.
    """
    out = {}
    for variable in variables:
        path = getattr(variable, "path", None) or variable.name
        key = path.split("/", 1)[-1]
        if key in out:
            raise ValueError(f"{what}: two variables share the checkpoint key {key!r}")
        out[key] = variable
    return out


class KeyedCheckpoint:
    """A `tf.train.Checkpoint` whose model weights are `{variable path: variable}` dicts.

    Args:
      weights: {item name: variables}, e.g. {"supernet": model.weights}; each item is saved
        keyed by variable path and checked by name before a restore.
      optional: {item name: variables} saved like `weights` but restored only when the
        checkpoint has them (items a checkpoint written by an earlier version lacks); after a
        restore, `absent` names those it did not have.
      random_states: variables of random number generators (`random_states_of(model)`),
        saved keyed by path and restored when the checkpoint has them.
      **others: other trackables (counters, generators), saved as `tf.train.Checkpoint` does.
    """

    def __init__(self, weights: dict, *, optional=None, random_states=(), **others):
        self.weights = {name: keyed(variables, name) for name, variables in weights.items()}
        self.optional = {
            name: keyed(variables, name) for name, variables in (optional or {}).items()
        }
        self.absent: frozenset[str] = frozenset()  # `optional` items the last restore lacked
        marker = tf.Variable(LAYOUT, dtype=tf.int64, trainable=False, name="checkpoint_layout")
        self._required = dict(layout=marker, **self.weights, **others)
        # By position: Keras names seed generators per process (`seed_generator_3`), but the
        # order of a model's variables is fixed by its structure.
        self.random_states = {f"{i:04d}": v for i, v in enumerate(random_states)}
        self.checkpoint = tf.train.Checkpoint(
            **self._required,
            **self.optional,
            **({"random_states": self.random_states} if random_states else {}),
        )

    def restore(self, path: str, what: str) -> None:
        """Checks `path` (see `check_compatible`), then restores every value it holds.

        Every item must be there except the `optional` ones and the random states; the
        optional items it lacks are left as they are and named in `self.absent`.

        Args:
          path: a checkpoint file prefix.
          what: e.g. "search" or "retrain", for error messages.
        """
        saved = check_compatible(path, what, self.weights, optional=self.optional)
        self.absent = frozenset(name for name in self.optional if name not in saved)
        items = dict(self._required)
        items.update({name: v for name, v in self.optional.items() if name not in self.absent})
        if self.random_states:
            if set(saved.get("random_states", ())) == set(self.random_states):
                items["random_states"] = self.random_states
            else:
                logging.warning(
                    "%s: %s holds no random states of this model (written by an earlier "
                    "version): dropout masks start over",
                    what,
                    path,
                )
        # A checkpoint that lacks some items is read through one without them (restoring
        # into the full one would fail `assert_consumed`).
        complete = not self.absent and (not self.random_states or "random_states" in items)
        checkpoint = self.checkpoint if complete else tf.train.Checkpoint(**items)
        try:
            status = checkpoint.restore(path)
        except (tf.errors.OpError, IndexError, OSError) as error:  # unreadable files
            raise DamagedCheckpointError(_damage(path, error)) from error
        try:
            status.assert_consumed()
        except (AssertionError, ValueError) as error:
            raise CheckpointError(
                f"cannot restore the {what} checkpoint {path}: {error}"
            ) from error


def random_states_of(*models) -> list:
    """The variables of `models` that are not weights: Keras seed generators' states."""
    weights = {id(v) for model in models for v in model.weights}
    return [v for model in models for v in model.variables if id(v) not in weights]


def _saved_children(path: str) -> dict[str, dict[str, tuple | None]]:
    """{top-level name: {child name: its saved shape}} of the checkpoint at `path`.

    Read from the object graph and the shape map of the checkpoint's index, without loading a
    value; the shape is None for a child that is not a saved variable.
    """
    try:
        reader = tf.train.load_checkpoint(path)
        graph = trackable_object_graph_pb2.TrackableObjectGraph()
        graph.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
        shapes = reader.get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError, IndexError, OSError) as error:  # unreadable files
        raise DamagedCheckpointError(_damage(path, error)) from error
    nodes = graph.nodes

    def shape(node_id: int) -> tuple | None:
        keys = [a.checkpoint_key for a in nodes[node_id].attributes if a.name == "VARIABLE_VALUE"]
        return tuple(shapes[keys[0]]) if keys and keys[0] in shapes else None

    return {
        child.local_name: {
            grandchild.local_name: shape(grandchild.node_id)
            for grandchild in nodes[child.node_id].children
        }
        for child in nodes[0].children
    }


def _damage(path: str, error: BaseException) -> str:
    """Which files of the checkpoint at `path` could not be read, and why (one line)."""
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"{path}.index / {path}.data-* cannot be read ({reason})"


def _sample(names) -> str:
    names = sorted(names)
    return ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")


def check_compatible(path: str, what: str, weights: dict, optional=None) -> dict[str, set[str]]:
    """Raises `CheckpointError` unless `path` holds the variables `weights` names, as shaped.

    Args:
      path: the checkpoint file prefix to restore.
      what: e.g. "search" or "retrain", for the message.
      weights: {item name: {variable path: variable}}, the keyed items of the checkpoint.
      optional: keyed items like `weights`, checked only when the checkpoint has them (an
        item it lacks is the caller's to handle; one it holds must match all the same).

    Returns:
      The checkpoint's top-level items and their children (read once, for the caller too).
    """
    saved = _saved_children(path)
    if "layout" not in saved:
        raise CheckpointError(
            f"the {what} checkpoint {path} was written by an older enas_tf that stored weights "
            "by position; this version keys them by variable path (and the supernet's weights "
            "were restructured), so it cannot be loaded safely. Start a new --workdir, or "
            "finish this run with the enas_tf version that started it"
        )
    present = {name: v for name, v in (optional or {}).items() if name in saved}
    for name, variables in {**weights, **present}.items():
        missing = set(variables) - set(saved.get(name, ()))
        unexpected = set(saved.get(name, ())) - set(variables)
        if missing or unexpected:
            raise CheckpointError(
                f"the {what} checkpoint {path} does not match this model's {name}: "
                f"{len(missing)} variables missing from it ({_sample(missing)}), "
                f"{len(unexpected)} not in the model ({_sample(unexpected)}). It was written "
                "by a different model configuration or enas_tf version; use a new --workdir"
            )
        _check_shapes(path, what, name, variables, saved.get(name, {}))
    return saved


def _check_shapes(path: str, what: str, name: str, variables: dict, saved: dict) -> None:
    """Refuses a checkpoint whose variables have the model's names but other shapes.

    A model of another size (more filters, a larger hidden state) has the same variable names;
    without this check TensorFlow's restore failed with a ValueError traceback.
    """
    differ = {
        key: (saved[key], tuple(int(d) for d in variable.shape))
        for key, variable in sorted(variables.items())
        if saved[key] is not None and tuple(saved[key]) != tuple(int(d) for d in variable.shape)
    }
    if differ:
        key, (was, now) = next(iter(differ.items()))
        more = f" (and {len(differ) - 1} more)" if len(differ) > 1 else ""
        raise CheckpointError(
            f"the {what} checkpoint {path} holds a model of another size: {name} variable "
            f"{key} has shape {list(was)} there but {list(now)} in this config{more}. Pass "
            "the model sizes it was trained with (config.search.model / config.retrain.model), "
            "or use a new --workdir"
        )

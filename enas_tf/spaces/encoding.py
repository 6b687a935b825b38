"""Parsing helpers shared by every search space's arc class.

Each space keeps its own layout and messages; what is the same for all of them lives here:
integer checks, token lists from lists / numpy arrays / eager tensors, strings of integers, and
the shared reading of an arc's JSON form. Files are `enas_tf.spaces.arc_io`'s (`load_arc`,
`save_arc`): this module imports no space module and no file code, so the spaces and arc_io
import in one direction only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from enas_tf.errors import ArcError


def is_int(value: Any) -> bool:
    """True for Python and numpy integers; bools are rejected since `True` is rarely meant as 1."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def show(value: Any) -> str:
    """Readable value for messages (numpy ints print as plain ints)."""
    return str(int(value)) if is_int(value) else repr(value)


def as_token_list(tokens: Any) -> list[Any]:
    """A flat list of the tokens of a list, tuple, numpy array or eager tensor."""
    if hasattr(tokens, "numpy"):
        tokens = tokens.numpy()
    if isinstance(tokens, np.ndarray):
        if tokens.ndim != 1:
            raise ArcError(f"tokens must be 1-D, got shape {tokens.shape}")
        return list(tokens)
    if isinstance(tokens, (str, bytes)) or not isinstance(tokens, Iterable):
        raise ArcError(f"tokens must be a sequence of integers, got {type(tokens).__name__}")
    return list(tokens)


def parse_ints(text: Any, what: str) -> list[int]:
    """The whitespace-separated integers of `text`; `what` names it in error messages."""
    if not isinstance(text, str):
        raise ArcError(f"{what}: expected a string of integers, got {type(text).__name__}")
    ints = []
    for i, word in enumerate(text.split()):
        try:
            ints.append(int(word))
        except ValueError:
            raise ArcError(f"{what}, number {i} = {word!r}: not an integer") from None
    return ints


def check_json_header(cls, data: Any) -> Mapping[str, Any]:
    """Checks that `data` is a JSON object of `cls`'s space and version; returns it.

    Args:
      cls: the arc class (its `space` and `VERSION`).
      data: the parsed JSON value.

    Raises:
      ArcError: not an object, another space, or another version (named).
    """
    if not isinstance(data, Mapping):
        raise ArcError(
            f"an arc of space {cls.space!r} in JSON form is an object, got {type(data).__name__}"
        )
    space = data.get("space")
    if space != cls.space:
        raise ArcError(f"space={space!r}: this reader handles space={cls.space!r} arcs")
    version = data.get("version")
    if version != cls.VERSION:
        raise ArcError(
            f"version={version!r}: this code reads {cls.space} arcs of version {cls.VERSION}"
        )
    return data


def part_from_json(
    data: Mapping[str, Any],
    *,
    named_key: str,
    text_key: str,
    from_named: Callable[[Any], Any],
    from_text: Callable[[str], Any],
    difference: Callable[[Any, Any], str],
    what: str = "",
):
    """One part of an arc (the whole arc, or one micro cell) from its named and string forms.

    Builds the part from the named entries (`data[named_key]`, the source of truth) and/or the
    integer string (`data[text_key]`), and refuses the two if they disagree, naming the first
    difference: a hand edit that changed only one of them must not be silently resolved either
    way.

    Args:
      data: the arc's JSON object (header already checked).
      named_key, text_key: the keys of the named entries and of the string.
      from_named, from_text: build the part from either.
      difference: describes the first difference of two parts, `(from_text, from_named)`.
      what: how messages call the named entries (default `named_key`).

    Raises:
      ArcError: naming the field that is wrong.
    """
    what = what or named_key
    named, text = data.get(named_key), data.get(text_key)
    if named is None and text is None:
        raise ArcError(f"missing {named_key!r} (named {what}) and {text_key!r}: needs at least one")
    part = from_named(named) if named is not None else None
    if text is not None:
        if not isinstance(text, str):
            raise ArcError(f"{text_key}: expected a string, got {type(text).__name__}")
        parsed = from_text(text)
        if part is not None and parsed != part:
            raise ArcError(
                f"{text_key} disagrees with the named {what} ({difference(parsed, part)}): "
                "fix or delete one of them"
            )
        part = part or parsed
    return part


def arc_from_json(
    cls,
    data: Any,
    *,
    named_key: str,
    text_key: str,
    from_named: Callable[[Any], Any],
    from_text: Callable[[str], Any],
    difference: Callable[[Any, Any], str],
):
    """The shared reading of an arc.json object with one named part and one integer string.

    `check_json_header`, then `part_from_json` for the whole arc (macro layers, RNN nodes; a
    micro arc reads one part per cell).

    Raises:
      ArcError: naming the field that is wrong.
    """
    data = check_json_header(cls, data)
    return part_from_json(
        data,
        named_key=named_key,
        text_key=text_key,
        from_named=from_named,
        from_text=from_text,
        difference=difference,
    )

"""Errors shared by the search spaces and the arc.json reader/writer.

They subclass `ValueError` because every one of them means "this value does not describe an
architecture of the space", so callers that already catch `ValueError` for bad flags keep working.
"""

from __future__ import annotations


class ArcError(ValueError):
    """An architecture outside its search space, or a malformed encoding of one.

    The message always says where the problem is (cell, node, field or token position) and what
    would be allowed, because arcs are often typed or edited by hand.
    """


class ArcFileError(ArcError):
    """An arc.json (or published name) that cannot be turned into an architecture.

    The message names the path or name, so a failure deep inside a pipeline points at the file.
    """

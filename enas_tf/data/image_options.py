"""The image-data options a config names, checked without TensorFlow.

`enas_tf.config.validation` checks these keys before TensorFlow is imported (the CLI starts
quietly and fails in a second on a typo), so they live apart from the array code that uses
them (`enas_tf.data.image_arrays`).
"""

from __future__ import annotations

import re

from enas_tf.errors import DataError

COLOR_MODES = ("auto", "grayscale", "rgb", "rgba")
RESIZE_MODES = ("stretch", "crop", "pad")
_SIZE_PATTERN = re.compile(r"^\s*(\d+)\s*(?:[x,]\s*(\d+))?\s*$")


def parse_image_size(value) -> tuple[int, int] | None:
    """`data.image_size` as (height, width), or None for "keep the data's size".

    Raises:
      DataError: the value is not "", "S" or "HxW" with positive sizes.
    """
    text = str(value).strip()
    if text in ("", "0"):
        return None
    match = _SIZE_PATTERN.match(text)
    height = int(match.group(1)) if match else 0
    width = int(match.group(2) or height) if match else 0
    if not match or height < 1 or width < 1 or max(height, width) > 8192:
        raise DataError(
            f"data.image_size={value!r}: must be '' (the data's own size), one number for a "
            "square (e.g. '32') or HEIGHTxWIDTH (e.g. '48x64'), each between 1 and 8192"
        )
    return height, width

"""Where the reduction cells go and how wide every cell is, shared by supernet and child."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class CellSpec:
    """One cell of the network: its kind, width, and whether its first input must be reduced."""

    reduction: bool
    filters: int
    reduce_prev_prev: bool
    depth_fraction: float  # (position + 1) / number of cells, for drop-path


def micro_layout(num_layers: int, filters: int) -> list[CellSpec]:
    """The paper's Figure 4 network: 3 stages of N normal cells with 2 reduction cells between.

    `num_layers` counts normal cells (as in the original code's `child_num_layers`; the paper's
    search uses 6, its final model 15) and must be a multiple of 3. Filters double at each
    reduction cell.

    Raises:
      ValueError: if `num_layers` is not a positive multiple of 3 or filters is odd.
    """
    if num_layers < 3 or num_layers % 3:
        raise ValueError(
            f"model.num_layers={num_layers}: must be a positive multiple of 3 "
            "(normal cells, split evenly over the 3 stages)"
        )
    if filters < 2 or filters % 2:
        raise ValueError(f"model.filters={filters}: must be an even number >= 2")
    per_stage = num_layers // 3
    kinds = [False] * per_stage + [True] + [False] * per_stage + [True] + [False] * per_stage
    specs = []
    width = filters
    for position, reduction in enumerate(kinds):
        if reduction:
            width *= 2
        previous_was_reduction = position > 0 and kinds[position - 1]
        specs.append(
            CellSpec(
                reduction=reduction,
                filters=width,
                reduce_prev_prev=previous_was_reduction,
                depth_fraction=(position + 1) / len(kinds),
            )
        )
    return specs


def aux_head_position(layout: list[CellSpec]) -> int:
    """The auxiliary head reads the output of the cell after the last reduction cell."""
    last_reduction = max(i for i, spec in enumerate(layout) if spec.reduction)
    return min(last_reduction + 1, len(layout) - 1)

"""Entering many rows at once (attendance grid, score grid): all or nothing, with the changes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.errors import DomainError


def apply_grid(
    rows_by_id: Mapping[int, Any],
    updates: Mapping[int, tuple],
    apply: Callable[..., None],
    state: Callable[[Any], Any],
) -> dict[str, list[Any]]:
    """Call `apply(row, *values)` for each {row_id: values} in `updates`; ids not in `rows_by_id`
    are ignored. Every row's problem is collected and raised together, each under its row id in
    `DomainError.fields` (the caller rolls back and shows the grid again as typed, with the bad
    cells marked). Returns {officer name: [old state, new state]} of the rows that changed, for
    the audit log."""
    problems: list[str] = []
    by_row: dict[int, str] = {}
    changes: dict[str, list[Any]] = {}
    for row_id, values in updates.items():
        row = rows_by_id.get(row_id)
        if row is None:
            continue
        before = state(row)
        try:
            apply(row, *values)
        except DomainError as exc:
            problems.append(f"{row.officer.name}：{exc}")
            by_row[row_id] = str(exc)
            continue
        if state(row) != before:
            changes[row.officer.name] = [before, state(row)]
    if problems:
        raise DomainError("；".join(problems) + "。请改正标红的格子后重新保存（已填写的内容都保留着）",
                          fields=by_row)
    return changes

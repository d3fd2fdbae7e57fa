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
    are ignored. Every row's problem is collected and raised together (nothing is meant to be
    kept: the caller rolls back). Returns {officer name: [old state, new state]} of the rows that
    changed, for the audit log."""
    problems: list[str] = []
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
            continue
        if state(row) != before:
            changes[row.officer.name] = [before, state(row)]
    if problems:
        raise DomainError("；".join(problems))
    return changes

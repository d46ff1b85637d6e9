"""What the screens' tables share."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable


def chosen_key(table: DataTable[Any]) -> str | None:
    """The key of the row under the cursor, or None when the table is empty."""
    if not table.row_count:
        return None
    return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

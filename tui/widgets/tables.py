"""What the screens' tables share."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, RowKey


class PlainTable(DataTable[Any]):
    """A DataTable whose text cells are shown as they are. DataTable reads a str cell
    as Rich markup: a memory that says "[bold]" would lose the words, and one that
    says "[/x]" would stop the screen drawing. Cells stay strings (screens read them
    back), with their brackets escaped."""

    def add_row(
        self, *cells: CellType, height: int | None = 1, key: str | None = None,
        label: Any = None,
    ) -> RowKey:  # fmt: skip
        shown = [escape(c) if isinstance(c, str) else c for c in cells]
        return super().add_row(*shown, height=height, key=key, label=label)

    def update_cell(
        self, row_key: Any, column_key: Any, value: CellType, *, update_width: bool = False
    ) -> None:
        shown = escape(value) if isinstance(value, str) else value
        super().update_cell(row_key, column_key, shown, update_width=update_width)


def chosen_key(table: DataTable[Any]) -> str | None:
    """The key of the row under the cursor, or None when the table is empty."""
    if not table.row_count:
        return None
    return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

"""The Textual terminal UI: a thin client of `assistant` (built in a later issue)."""

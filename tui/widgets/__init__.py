"""Widgets the screens share: they take data and post messages, and hold no logic of
the memory itself."""

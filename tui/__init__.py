"""The Textual terminal app: a thin client of the core service (`assistant.service`).

It never opens SQLite, chroma or a model itself: it talks to the daemon (starting one
when none runs, unless `[tui] start_daemon` is off) through the same `Backend` seam as
the command line. `app.py` holds the app, `screens/` one module per screen, `widgets/`
the pieces they share, `session.py` how the memory is reached and unlocked.
"""

"""The one core service every front end calls (DESIGN.md section 6).

    core.py      `Service`: one method per user action on an open memory, typed results
    backend.py   the seam: `Backend`, and `InProcess`, which opens the vault per call
    explain.py   `why`: a memory's source, strength, retention, evidence and links
    overview.py  `status`: what is stored and where

Front ends (the CLI now, the terminal app next) parse, call a backend and render.
Still to move behind it: ingest and sync, sources, identity, reflect, persona and
thought edits, history, undo, forget and lock/unlock, which the CLI commands still
run on the open memory themselves.
"""

"""The one core service every front end calls (DESIGN.md section 6).

    core.py      `Service`: one method per user action on an open memory, typed results
    backend.py   the seam: `Backend`, and `InProcess`, which opens the vault per call
    explain.py   `why`: a memory's source, strength, retention, evidence and links
    overview.py  `status`: what is stored and where

Front ends (the CLI now, the terminal app next) parse, call a backend and render.
Behind it so far: recall, ask, why, thoughts, status, persona (list, set, pin, unpin,
hide), history and undo. Still to move: ingest and sync (their progress), sources,
identity, reflect, forget and lock/unlock, which the CLI still runs on the open
memory itself.
"""

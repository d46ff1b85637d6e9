"""The one core service every front end calls (DESIGN.md section 6).

    core.py      `Service`: one method per user action on an open memory, typed results
    backend.py   the seam: `Backend`; `InProcess`, which opens the vault per call, and
                 `Resident`, over a memory held open (the demo, the daemon)
    explain.py   `why`: a memory's source, strength, retention, evidence and links
    overview.py  `status`: what is stored and where
    sync.py      `sync`: every registered source brought up to date, one progress
    requests.py  what a front end asks for, light enough to import anywhere

Front ends (the CLI now, the terminal app next) parse, call a backend and render.
Behind it: recall, ask, why, thoughts, status, persona (list, set, pin, unpin, hide),
history, undo, ingest, sync, sources (list, add, remove), identity (list, add),
reflect and its pending count, forget (its preview, then the forget itself) and
check. Long calls (ingest, sync, reflect, forget, check) report progress and take a
`Cancel` in the one shape of store/progress.py.

Still in the CLI on the open memory: `me init` (it creates the vault, then records
the user's name in it) and `me unlock` (it unwraps the keys themselves); lock and
unlock of a running daemon are the daemon's own control requests.
"""

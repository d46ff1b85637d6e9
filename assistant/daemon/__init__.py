"""The background daemon: one process keeps the vault open for every front end.

place.py       where it lives: the socket and the pid file (a live daemon's flock)
protocol.py    the wire: length-prefixed JSON frames, bounded, versioned
codec.py       typed results to JSON and back
gate.py        the door to the open memory: lock waits for requests in flight
server.py      the socket server, lock/unlock and status (`me daemon run`)
background.py  watching sources, periodic scans, reflection while idle, auto-lock
client.py      the backend that talks to it (light: no torch, numpy or SQLCipher)
sdnotify.py    readiness and watchdog pings for systemd
units.py       the systemd and launchd units `me daemon install` writes
"""

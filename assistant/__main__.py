"""`python -m assistant`: the `me` command, for when no console script is on PATH
(the daemon starts itself this way, with the same interpreter)."""

from assistant.cli import main

main()

"""Wall time and peak memory of `me ingest` on one oversized single-line note.

Run by hand from the repository root (it is not a test; compare runs on one machine):

    .venv/bin/python bench/oversized_note.py                 # a 5 MB note, default settings
    .venv/bin/python bench/oversized_note.py --mb 5 --max-chunks 100000   # bound raised

It writes one `.md` note of `--mb` megabytes of prose on a single line (no newline, so
paragraph splitting cannot help), creates a throwaway passphrase-mode vault in a temp
home, and runs the real CLI (`me ingest FOLDER --json`) in a subprocess. While it runs,
the script polls `/proc` every 50 ms for every process in the command's tree and keeps
each one's peak resident set (`VmHWM`, a high-water mark kept by the kernel, so a peak
between two polls is still seen). It prints the wall time, the exit status, the chunks
stored and the peak RSS of the CLI process and of the parse worker. `--max-chunks` sets
`SECONDSELF_INGEST_MAX_CHUNKS_PER_DOCUMENT` (ignored by versions without that setting).
Linux only (`/proc`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "bench passphrase, not a secret"
_WORDS = (
    "the",
    "train",
    "to",
    "Lisbon",
    "left",
    "late",
    "so",
    "we",
    "had",
    "dinner",
    "near",
    "the",
    "station",
    "and",
    "talked",
    "about",
    "moving",
    "the",
    "garden",
    "boxes",
    "before",
    "winter",
    "while",
    "Ana",
    "checked",
    "the",
    "tickets",
    "again",
)


def single_line_note(size: int, seed: int = 7) -> str:
    """Sentences of prose joined by spaces, with no newline anywhere."""
    rng = random.Random(seed)
    parts: list[str] = []
    total = 0
    while total < size:
        sentence = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 20)))
        sentence = sentence.capitalize() + "."
        parts.append(sentence)
        total += len(sentence) + 1
    return " ".join(parts)[:size]


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _peak_kib(pid: int) -> tuple[str, int] | None:
    """(command line, VmHWM in KiB) of a live process, or None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return cmdline, int(line.split()[1])
    return None


def run_measured(
    args: list[str], env: dict[str, str]
) -> tuple[float, int, str, dict[int, tuple[str, int]]]:
    """Run `me ARGS`; wall seconds, exit status, stdout and each process's peak RSS."""
    command = [sys.executable, "-c", "from assistant.cli import main; main()", *args]
    start = time.monotonic()
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    peaks: dict[int, tuple[str, int]] = {}
    while proc.poll() is None:
        for pid in _tree(proc.pid):
            sample = _peak_kib(pid)
            if sample is not None:
                peaks[pid] = (sample[0], max(sample[1], peaks.get(pid, ("", 0))[1]))
        time.sleep(0.05)
    out = proc.stdout.read() if proc.stdout else ""
    return time.monotonic() - start, proc.returncode, out, peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=5.0, help="note size in MB (10^6 bytes)")
    parser.add_argument("--max-chunks", type=int, help="the [ingest] bound to set")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oversized-") as tmp:
        home, runtime, folder = Path(tmp, "home"), Path(tmp, "run"), Path(tmp, "notes")
        runtime.mkdir(mode=0o700)
        folder.mkdir()
        note = folder / "one-line.md"
        note.write_text(single_line_note(int(options.mb * 1_000_000)), encoding="utf-8")
        size = note.stat().st_size
        env = dict(os.environ, SECONDSELF_HOME=str(home), XDG_RUNTIME_DIR=str(runtime))
        env.update(SECONDSELF_PASSPHRASE=PASSPHRASE, OMP_WAIT_POLICY="PASSIVE")
        if options.max_chunks is not None:
            env["SECONDSELF_INGEST_MAX_CHUNKS_PER_DOCUMENT"] = str(options.max_chunks)
        subprocess.run(
            [sys.executable, "-c", "from assistant.cli import main; main()", "init",
             "--mode", "passphrase"],
            env=env, cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        wall, code, out, peaks = run_measured(["ingest", str(folder), "--json"], env)
    summary = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    print(f"note: {size} bytes, one line")
    print(f"wall: {wall:.1f} s, exit status {code}")
    print(f"chunks stored: {summary.get('chunks_added')}, failed: {summary.get('failed')}")
    for pid, (cmdline, kib) in sorted(peaks.items()):
        role = "parse worker" if "connectors.worker" in cmdline else "me ingest"
        print(f"peak RSS {role} (pid {pid}): {kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()

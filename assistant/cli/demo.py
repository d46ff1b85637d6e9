"""`me demo`: a throwaway vault filled from the sample notes, then recall, reflection
and a question answered from what was learned, end to end."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from assistant.cli.output import echo

if TYPE_CHECKING:
    from assistant.config import Config
    from assistant.memory import Memory
    from assistant.paths import Paths

DEMO_QUESTION = "when did I plan the Lisbon trip"
DEMO_ASK = "when is Ana's flight to Lisbon?"


def demo_notes_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "demo_notes"


@click.command(epilog='Example:\n\n\b\n  me demo\n  me demo --question "Ana\'s flight" --keep')
@click.option("--question", default=DEMO_QUESTION, show_default=True, help="What to recall.")
@click.option("-k", "k", type=click.IntRange(1, 50), default=3, show_default=True)
@click.option("--keep", is_flag=True, help="Keep the demo vault and print where it is.")
@click.option("--tui", "with_tui", is_flag=True, help="Then open it in the terminal app.")
def demo(question: str, k: int, keep: bool, with_tui: bool) -> None:
    """Create a throwaway encrypted memory from the bundled sample notes, query it,
    reflect on it (builtin engine) and ask it a question; with --tui, then explore it
    in the terminal app (ctrl+q ends the demo)."""
    from assistant import config as config_mod
    from assistant import paths as paths_mod
    from assistant.hits import source_label
    from assistant.memory import Memory
    from assistant.service.backend import Resident
    from assistant.service.requests import AskRequest, RecallRequest
    from assistant.vault import Secrets, create_vault

    home = Path(tempfile.mkdtemp(prefix="secondself-demo-"))
    passphrase = secrets.token_urlsafe(18)
    demo_secrets = Secrets(ask_passphrase=lambda _confirm: passphrase)
    try:
        p = paths_mod.resolve(home)
        config = config_mod.load(p.config_file)
        echo(f"1. Creating an encrypted vault in {home} (passphrase mode)")
        create_vault(p, demo_secrets, mode="passphrase")
        echo(f"2. Ingesting the sample notes from {demo_notes_dir()}")
        # A throwaway vault, not the user's: it is held open here for the whole demo,
        # and every step goes through the same backend seam as the real commands.
        with Memory.open(p, config, demo_secrets) as memory:
            service = Resident(memory)
            summary = service.ingest([demo_notes_dir()])
            echo(
                f"   {summary.added} files, {summary.chunks_added} chunks stored "
                f"({len(summary.failed)} failed)"
            )
            echo(f"3. Recall: {question!r}\n")
            hits = service.recall(RecallRequest(question, k=k))
            for rank, hit in enumerate(hits, start=1):
                label = source_label(hit.document, hit.title)
                echo(f"  {rank}. {hit.time[:10]}  {label.replace(str(demo_notes_dir()), 'demo')}")
                text = " ".join(hit.text.split())
                echo(f"     {text[:200]}{'…' if len(text) > 200 else ''}")
            report = service.reflect("builtin")
            facts = service.facts()
            echo(
                f"\n4. Reflection (builtin engine): {report.episodes} chunks read, "
                f"{len(facts)} current persona facts, {sum(report.thoughts.values())} thoughts, "
                f"{report.links} links"
            )
            for fact in facts[:8]:
                who = "you" if fact.person == "self" else fact.person
                echo(f"   {who}: {fact.attribute} = {fact.value}")
            echo(f"\n5. Ask: {DEMO_ASK!r}\n")
            answer = service.ask(AskRequest(DEMO_ASK, k=5), "builtin").answer
            for line in answer.text.splitlines():
                echo(f"   {line.replace(str(demo_notes_dir()), 'demo')}")
            if with_tui:
                explore(p, config, memory)
        if keep:
            echo(
                f"\nKept. Try: SECONDSELF_HOME={home} SECONDSELF_PASSPHRASE={passphrase} "
                'me recall "Ana\'s flight"'
            )
    finally:
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


def explore(paths: Paths, config: Config, memory: Memory) -> None:
    """The terminal app over the demo's open vault (no daemon: the vault is throwaway)."""
    from tui.app import SecondSelfApp
    from tui.session import LocalSession

    session = LocalSession(paths, config, memory)
    SecondSelfApp(lambda: session, config).run()

"""`me init` and `me unlock`: create the vault, check or recover access to it."""

from __future__ import annotations

import click

from assistant.cli import common
from assistant.cli.common import current_config, current_paths, open_memory, terminal_secrets
from assistant.cli.output import echo

MODES = click.Choice(["auto", "keyring", "passphrase"])


@click.command(
    epilog="Example:\n\n\b\n  me init            # keyring if trustworthy, else passphrase\n"
    '  SECONDSELF_PASSPHRASE=... me init --mode passphrase --name "Rui Costa"'
)
@click.option(
    "--mode",
    type=MODES,
    default="auto",
    show_default=True,
    help="Where the key that opens the vault is kept.",
)
@click.option("--name", help="Your name, so your own messages are marked as yours.")
def init(mode: str, name: str | None) -> None:
    """Create a new encrypted vault and print its recovery phrase once."""
    import sys

    from assistant.identity import add_identity
    from assistant.vault import create_vault

    paths = current_paths()
    if name is None and sys.stdin.isatty():
        name = (
            click.prompt(
                "Your name (marks your own messages; Enter to skip)",
                default="",
                show_default=False,
                err=True,
            )
            or None
        )
    secrets = terminal_secrets()
    result = create_vault(paths, secrets, mode=mode)
    if name:
        with open_memory(paths, current_config(paths), secrets) as memory:
            add_identity(memory.db, "name", name)
    if result.mode == "keyring":
        echo(f"Vault created at {paths.data}; its key is in the OS keyring ({result.reason}).")
    else:
        echo(f"Vault created at {paths.data}; it opens with your passphrase.")
        if mode == "auto":
            echo(f"(The OS keyring was not used: {result.reason}.)")
    words = result.recovery_phrase.split()
    echo("\nRecovery phrase (shown once; write it down and keep it offline):\n")
    for row in range(0, 24, 6):
        echo(
            "  "
            + "  ".join(f"{row + i + 1:2d}. {w:<9}" for i, w in enumerate(words[row : row + 6]))
        )
    echo("\nIt unlocks this vault on any machine: `me unlock --recovery`.")
    from assistant.runtime import runtime_storage

    warning = runtime_storage(paths.runtime).warning()
    if warning:
        echo(f"\nNote: {warning}", err=True)
    from assistant.embedder import prepare_model
    from assistant.memory import onnx_cache

    # Last, while the phrase is being written down: the one-off ONNX export (seconds,
    # with torch) that spares every later recall from importing torch.
    prepare_model(current_config(paths).embedding, onnx_cache(paths))


@click.command(
    epilog="Example:\n\n\b\n  me unlock                 # check that the vault opens\n"
    "  me unlock --recovery      # new machine: recovery phrase, then a new passphrase"
)
@click.option(
    "--recovery",
    is_flag=True,
    help="Unlock with the 24-word recovery phrase and set up access on this machine.",
)
@click.option(
    "--mode",
    type=MODES,
    default="auto",
    show_default=True,
    help="With --recovery: how this machine will open the vault from now on.",
)
def unlock(recovery: bool, mode: str) -> None:
    """Unlock the running daemon, check that the vault opens, or regain access with
    the recovery phrase."""
    paths = current_paths()
    keys = None
    if not recovery and not common.FORCE_IN_PROCESS:
        from assistant.cli.daemon import unlock_daemon
        from assistant.daemon.client import find

        client = find(paths)
        if client is not None:
            unlock_daemon(client)
            return
    if recovery:
        from assistant.vault import recover

        keys, used, reason = recover(paths, terminal_secrets(), mode=mode)
        where = "the OS keyring" if used == "keyring" else "your new passphrase"
        echo(f"Recovered. From now on the vault opens with {where}.")
        if used == "passphrase" and mode == "auto":
            echo(f"(The OS keyring was not used: {reason}.)")
    memory = open_memory(paths, current_config(paths), keys=keys)
    with memory:
        count = memory.db.conn.execute("SELECT count(*) FROM episodes").fetchone()[0]
        how = memory.open_index().how
    echo(f"Vault opens: {count} memories, index {how}.")

"""The core imports without the UI or the heavy model stack; `me --help` stays light."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ("torch", "textual", "chromadb", "sentence_transformers", "transformers")


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    return set(out.split())


def test_core_packages_import_without_ui_or_torch() -> None:
    modules = loaded_after(
        "import assistant, store, connectors, policies\n"
        "import assistant.ingest, assistant.recall, assistant.memory, assistant.vault\n"
        "import store.vectors, store.database, connectors.markdown, connectors.text"
    )
    assert {"assistant.ingest", "store.vectors"} <= modules  # the probe really ran
    assert not modules & set(HEAVY)


def test_the_service_loads_no_writing_or_reflection_machinery_until_used() -> None:
    """A cold `me recall` imports the service; the modules behind reading files,
    reflecting and forgetting compile hundreds of patterns (~0.25 s) and wait for
    the actions that need them."""
    modules = loaded_after("import assistant.service.backend, assistant.cli.recall")
    assert "assistant.service.core" in modules
    lazy = {"assistant.ingest", "assistant.forget", "assistant.reflection.run", "assistant.ask"}
    assert not modules & (lazy | set(HEAVY))


def test_the_app_is_a_thin_client() -> None:
    """The terminal app talks to the core through the backend seam: starting it loads
    no database, vector index or model code (a daemon holds those)."""
    modules = loaded_after("import tui.app, tui.session")
    assert "tui.screens.home" in modules
    assert not modules & {"numpy", "sqlcipher3", "chromadb", "onnxruntime", "torch"}


def test_help_does_not_import_torch_or_chromadb() -> None:
    modules = loaded_after(
        "import sys\nsys.argv = ['me', '--help']\nfrom assistant.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert "assistant.cli" in modules
    assert not modules & set(HEAVY)


def test_only_tui_may_import_textual() -> None:
    for package in ("assistant", "store", "connectors", "policies"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "import textual" not in text and "from textual" not in text, path
            # the CLI reaches the app through function-level imports only
            assert "\nfrom tui" not in text and "\nimport tui" not in text, path


def test_lower_layers_never_import_assistant_or_tui() -> None:
    for package in ("store", "connectors", "policies"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for banned in ("assistant", "tui"):
                assert f"import {banned}" not in text and f"from {banned}" not in text, path


def test_derived_memory_never_imports_the_engines_or_the_front_ends() -> None:
    """Engines propose, derived memory decides: the arrow points one way only."""
    banned = ("assistant.reflection", "assistant.cli", "assistant.ask", "assistant.recall", "tui")
    for path in (ROOT / "assistant" / "derived").rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith(("import ", "from ")) or line.lstrip().startswith("from "):
                assert not any(f" {b}" in line for b in banned), (path, line)


def test_packaging_has_no_init() -> None:
    assert not (ROOT / "packaging" / "__init__.py").exists()

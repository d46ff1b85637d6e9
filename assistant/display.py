"""Text from memory made safe to show on a terminal: the command line and the app both
print what the user's files contain, and a file can contain escape sequences that
would rewrite the screen, the title or the clipboard."""

from __future__ import annotations

import re

# Escape sequences whole (CSI, OSC, DCS/PM/APC strings, two-byte escapes), so their
# parameters do not stay behind as litter once the ESC byte is gone.
_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, erase
    r"|\x1b[\]PX^_].*?(?:\x07|\x1b\\|$)"  # OSC (titles, hyperlinks), DCS, SOS, PM, APC
    r"|\x1b[ -/]*[0-~]"  # two-byte and charset escapes
    r"|\x9b[0-?]*[ -/]*[@-~]",  # the one-byte C1 CSI
    re.DOTALL,
)
# C0 and C1 controls but newline and tab; bidirectional overrides, which reorder what
# is shown ("Trojan Source"); and the ESC byte of anything the pattern above missed.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str, one_line: bool = False) -> str:
    """`text` without escape sequences and control characters; `one_line` also folds lines."""
    text = _CONTROLS.sub("", _SEQUENCES.sub("", text))
    if one_line:
        text = " ".join(text.split())
    return text

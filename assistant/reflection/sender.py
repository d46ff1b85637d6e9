"""What a mail says about its sender: their address, from the From header, and where
they work, from the line under their name in their sign-off:

    Hannah Vogel
    Talent Acquisition, Klarwerk GmbH

gives Hannah Vogel's employer, Klarwerk GmbH; and her job title too when the role
names an occupation ("Senior Data Scientist, Maré Energy"; "People & Culture" is a
department, not a title). The sign-off is the signature the mail connector cut after a
"-- " line (`meta["signature"]`) or the last lines of the text ("Best regards,\\nName\\n
Role, Organisation" has no separator). Only a block that starts with the sender's own
name counts: a forwarded or quoted signature is someone else's.
"""

from __future__ import annotations

import re

from assistant.derived.people import personal_mailbox
from assistant.derived.proposals import FactCandidate
from assistant.reflection.dates import anchor_date
from assistant.reflection.engine import EpisodeView
from assistant.reflection.lexicon import OCCUPATIONS
from assistant.reflection.values import proper_value

TAIL_LINES = 6  # how far from the end of a mail a sign-off without "-- " may start
CONFIDENCE = 0.8
_ROLE_LINE = re.compile(
    r"^(?P<role>[^,|·@\d]{2,60}?)\s*(?:,|\||·|\s[–—-]\s|\s+at\s+|\s+@\s+)\s*"
    r"(?P<org>[^,|·@\d]{2,60})$"
)
# Words that make a role a title (with OCCUPATIONS): "Head of Data", "VP Sales".
_TITLE_WORDS = frozenset({"head", "chief", "vp", "president", "principal", "partner", "owner"})


def sender_facts(episode: EpisodeView) -> list[FactCandidate]:
    """The sender's email address and employer, and job title when the role is one;
    nothing unless the mail is signed with the sender's name and a role at an
    organisation, from an address that holds a part of that name: an airline's or a
    shop's mail ("Azores Airlines <noreply@...>"), signed with its own name, is no
    person's."""
    mailbox = personal_mailbox(episode.sender)
    if episode.kind != "email" or mailbox is None or not episode.speaker:
        return []
    name, address = mailbox[0].casefold(), mailbox[1]
    tail = [line.strip() for line in episode.text.splitlines() if line.strip()][-TAIL_LINES:]
    for block in (str(episode.meta.get("signature") or "").splitlines(), tail):
        lines = [line.strip() for line in block if line.strip()]
        for index, line in enumerate(lines):
            if line.casefold() != name:
                continue
            role = _ROLE_LINE.match(lines[index + 1]) if index + 1 < len(lines) else None
            if role is None:
                return []
            work = _work(episode, role.group("role").strip(), role.group("org").strip(),
                         lines[index + 1])  # fmt: skip
            if not work:
                return []
            return [_fact(episode, "email", address, episode.sender or ""), *work]
    return []


def _work(episode: EpisodeView, role: str, org: str, line: str) -> list[FactCandidate]:
    employer = proper_value(org, lowercase_words=0)
    if employer is None:
        return []
    out = [_fact(episode, "employer", employer, line)]
    words = {w.casefold() for w in re.findall(r"[^\W\d_]+", role)}
    if words & (OCCUPATIONS | _TITLE_WORDS):
        out.append(_fact(episode, "job_title", role, line))
    return out


def _fact(episode: EpisodeView, attribute: str, value: str, statement: str) -> FactCandidate:
    return FactCandidate(
        person=episode.speaker,
        attribute=attribute,
        value=value,
        valid_from=anchor_date(episode.time).isoformat(),
        evidence=episode.id,
        confidence=CONFIDENCE,
        statement=statement,
    )

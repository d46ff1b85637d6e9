"""People: one person however they appear, across notes, chats, mail and calendars.

A person is the name their facts are stored under. The same person also appears as a
first name ("Tiago" for "Tiago Mendes"), a nickname or a note's front-matter alias
("Ti"), a chat display name that is an email address or a phone number, or a
relationship word ("Mãe" in the family group, for the person whose relationship to you
is mother). `resolve` maps each of these to the stored person when exactly one person
fits; when several could, the name stays its own person rather than a guess.

Facts arrive in time order, so "Tiago" may be learned before the note that says he is
"Tiago Mendes". `consolidate` runs after each reflection and merges such a name into the
person it resolves to. A merge is a change like any other (`me undo`); `split` undoes
the latest merge of a name and keeps the two apart from then on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import sqlcipher3

from assistant.derived.attributes import is_single, person_key, value_key
from assistant.derived.changes import Change, inserted_id, load_change, now_iso, undo
from assistant.errors import MemoryRefError

# Relationship words in a few languages, grouped by what they mean: "Mãe", "Mum" and
# "mother" name one relationship (a note's "Relationship: mãe" is stored as "mother";
# partners and bosses keep their own word: "wife" says more than "partner").
KINSHIP: dict[str, frozenset[str]] = {
    group: frozenset(words.split())
    for group, words in {
        "mother": "mother mum mom mommy mummy mãe mae mamã mama mamá madre maman mutter",
        "father": "father dad daddy pai papá papa padre vater",
        "sister": "sister irmã irma hermana soeur schwester",
        "brother": "brother irmão irmao hermano frère frere bruder",
        "grandmother": "grandmother grandma granny nan avó avo abuela grand-mère oma",
        "grandfather": "grandfather grandpa avô abuelo grand-père opa",
        "partner": "partner wife husband girlfriend boyfriend spouse fiancé fiancée "
        "namorada namorado esposa marido mulher novia novio",
        "aunt": "aunt tia tía tante",
        "uncle": "uncle tio tío oncle onkel",
        "boss": "boss manager chefe jefe chef",
    }.items()
}
KIN_GROUP = {word: group for group, words in KINSHIP.items() for word in words}
# Words for several people at once: "my parents" are your mother and your father.
KIN_PLURALS: dict[str, tuple[str, ...]] = {
    "parents": ("mother", "father"), "pais": ("mother", "father"),
    "grandparents": ("grandmother", "grandfather"), "avós": ("grandmother", "grandfather"),
    "siblings": ("sister", "brother"), "irmãos": ("sister", "brother"),
    "sisters": ("sister",), "brothers": ("brother",),
}  # fmt: skip
KEEP_OWN_WORD = frozenset({"partner", "boss"})  # "wife" says more than "partner"


def relationship_word(word: str) -> str:
    """How a relationship is stored: its group's word ("mum", "Mãe" -> "mother"), but a
    partner or a boss keeps the word used."""
    word = " ".join(word.casefold().split())
    group = KIN_GROUP.get(word)
    return group if group and group not in KEEP_OWN_WORD else word


HANDLES = ("email", "phone")  # how a chat or a mailbox may name someone
_CURRENT = "status IN ('active', 'conflict') AND valid_to IS NULL"


def self_words(name: str) -> bool:
    """'me', 'I', 'myself' and 'self' all mean the user."""
    return name.strip().casefold() in ("me", "i", "myself", "self")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def resolve(conn: sqlcipher3.Connection, name: str) -> str:
    """The stored person `name` stands for: the user, a known person (by full name,
    first name, nickname, handle or relationship word), or `name` itself."""
    name = " ".join(name.split())
    mailbox = _MAILBOX.match(name)  # "Ana Ribeiro <ana@example.com>", as mail shows it
    if mailbox:
        by_address = resolve(conn, mailbox.group(2))
        if by_address != mailbox.group(2):
            return by_address
        name = mailbox.group(1).strip(' "') or mailbox.group(2)
    if self_words(name) or _is_user(conn, name):
        return "self"
    row = conn.execute(
        "SELECT person FROM facts WHERE person_key = ? LIMIT 1", (person_key(name),)
    ).fetchone()
    if row is not None:
        return str(row[0])
    return other_name_of(conn, name) or name


def named_in(conn: sqlcipher3.Connection, text: str) -> set[str]:
    """The stored people whose full name, first name (when only one person has it) or
    nickname `text` holds."""
    lowered = text.casefold()
    names: dict[str, set[str]] = {}  # a way to write them -> the people it names
    for (person,) in conn.execute("SELECT DISTINCT person FROM facts WHERE person != 'self'"):
        parts = person.split()
        for way in {person, parts[0]}:
            names.setdefault(way.casefold(), set()).add(person)
    for person, nickname in conn.execute(
        "SELECT person, value FROM facts WHERE attribute = 'nickname' AND status != 'hidden'"
    ):
        if person != "self":
            names.setdefault(nickname.casefold(), set()).add(person)
    found: dict[str, str] = {}  # person key -> the person
    for way, named in names.items():
        if len(named) == 1 and re.search(rf"(?<!\w){re.escape(way)}(?!\w)", lowered):
            person = next(iter(named))
            found.setdefault(person_key(person), person)
    return set(found.values())


_MAILBOX = re.compile(r"^(.*?)\s*<([^<>@\s]+@[^<>\s]+)>$")


def _is_user(conn: sqlcipher3.Connection, name: str) -> bool:
    """Whether `name` is one of the user's own names or handles: in `me identity`, or
    their own name, nickname, email or phone among the persona's facts about them."""
    own = conn.execute(
        "SELECT attribute, value FROM facts WHERE person_key = 'self' AND status != 'hidden' "
        "AND attribute IN ('name', 'nickname', 'email', 'phone')"
    ).fetchall()
    kinds = {"name": "name", "nickname": "name", "email": "email", "phone": "phone"}
    known = [(kinds[a], v) for a, v in own]
    for kind, value in [*conn.execute("SELECT kind, value FROM identity"), *known]:
        if kind == "phone" and len(_digits(name)) >= 7:
            if _digits(value)[-9:] == _digits(name)[-9:]:
                return True
        elif value.casefold() == name.casefold() or (kind == "name" and _short_for(name, value)):
            return True
    return False


def _short_for(short: str, full: str) -> bool:
    """ "Marta Sousa" for "Marta Isabel Sousa": same first and last name, middle ones
    left out (a single first name is not enough to be the user)."""
    a, b = short.casefold().split(), full.casefold().split()
    return len(a) >= 2 and len(b) > len(a) and a[0] == b[0] and a[-1] == b[-1]


def other_name_of(conn: sqlcipher3.Connection, name: str) -> str | None:
    """The one person, other than `name` itself, whose nickname, handle, first name or
    relationship `name` is; None when none or several are."""
    key = person_key(name)
    candidates = {
        person
        for (person,) in conn.execute(
            "SELECT DISTINCT person FROM facts WHERE attribute = 'nickname' AND value_key = ? "
            "AND status != 'hidden'",
            (value_key(name),),
        )
    }
    if not candidates and "@" in name:
        candidates = _people_with(conn, "email", lambda v: value_key(v) == value_key(name))
    if not candidates and len(_digits(name)) >= 7:
        candidates = _people_with(conn, "phone", lambda v: _digits(v)[-9:] == _digits(name)[-9:])
    if not candidates and " " not in key:  # a first name of one known person
        candidates = {
            person
            for (person,) in conn.execute(
                "SELECT DISTINCT person FROM facts WHERE person_key LIKE ? ESCAPE '\\'",
                (key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " %",),
            )
        }
    if not candidates and key in KIN_GROUP:
        candidates = kin(conn, KIN_GROUP[key])
    candidates = {p for p in candidates if person_key(p) != key and p != "self"}
    return candidates.pop() if len(candidates) == 1 else None


def _people_with(conn: sqlcipher3.Connection, attribute: str, same: Any) -> set[str]:
    rows = conn.execute(
        "SELECT person, value FROM facts WHERE attribute = ? AND status != 'hidden'",
        (attribute,),
    )
    return {person for person, value in rows if same(value)}


def with_relationship(conn: sqlcipher3.Connection, word: str) -> set[str]:
    """The people whose current relationship to the user is `word` (or a word of its
    group: "mum" finds a "mother")."""
    group = KIN_GROUP.get(word.casefold())
    if group is not None:
        return {resolve(conn, p) for p in kin(conn, group)}
    if word.casefold() in KIN_PLURALS:
        return {resolve(conn, p) for g in KIN_PLURALS[word.casefold()] for p in kin(conn, g)}
    rows = conn.execute(
        f"SELECT person FROM facts WHERE attribute = 'relationship' AND {_CURRENT} "
        "AND value_key = ?",
        (value_key(word),),
    )
    return {person for (person,) in rows}


def kin(conn: sqlcipher3.Connection, group: str) -> set[str]:
    """The people whose current relationship to the user is a word of `group`."""
    words = KINSHIP[group]
    rows = conn.execute(
        f"SELECT person, value FROM facts WHERE attribute = 'relationship' AND {_CURRENT}"
    )
    people = {person for person, value in rows if value.casefold() in words}
    if group == "partner":
        people |= {
            value
            for (value,) in conn.execute(
                "SELECT value FROM facts WHERE person_key = 'self' AND attribute = 'partner' "
                f"AND {_CURRENT}"
            )
        }
    return people


# -- listing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A person as `me people` shows them."""

    name: str
    names: list[str]  # nicknames and aliases
    handles: list[str]  # current email addresses and phone numbers
    relationship: str | None
    facts: int
    memories: int  # episodes their facts rest on

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "names": self.names,
            "handles": self.handles,
            "relationship": self.relationship,
            "facts": self.facts,
            "memories": self.memories,
        }


def personal_mailbox(sender: str | None) -> tuple[str, str] | None:
    """(name, address) of a mail sender whose address holds a part of their name
    ("Hannah Vogel <hannah.vogel@...>", "<hvogel@...>"), accents aside; None for a bare
    address or a shop's, an airline's or a team's ("Azores Airlines <noreply@...>")."""
    m = _MAILBOX.match(" ".join((sender or "").split()))
    if m is None:
        return None
    name, address = m.group(1).strip().strip('"').strip(), m.group(2)
    local = _plain(address.split("@")[0])
    if not any(len(part) >= 3 and part in local for part in _plain(name).split()):
        return None
    return name, address


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def listing(conn: sqlcipher3.Connection) -> list[Person]:
    """Everyone the persona knows or the user hears from (chat senders, people who mail
    them), besides the user: most facts first, then most memories."""
    rows = conn.execute(
        "SELECT f.person, f.attribute, f.value, f.status, f.valid_to, "
        "(SELECT group_concat(episode_id) FROM fact_evidence WHERE fact_id = f.id) "
        "FROM facts f WHERE f.person_key != 'self' AND f.status != 'hidden' ORDER BY f.id"
    ).fetchall()
    by_key: dict[str, dict[str, Any]] = {}
    for person, attribute, value, status, valid_to, evidence in rows:
        entry = by_key.setdefault(
            person_key(person),
            {"name": person, "names": [], "handles": [], "rel": None, "facts": 0, "eps": set()},
        )
        entry["facts"] += 1
        entry["eps"].update(int(e) for e in (evidence or "").split(",") if e)
        current = status in ("active", "conflict") and valid_to is None
        if attribute == "nickname" and value not in entry["names"]:
            entry["names"].append(value)
        elif attribute in HANDLES and current and value not in entry["handles"]:
            entry["handles"].append(value)
        elif attribute == "relationship" and current:
            entry["rel"] = value
    for sender, episodes in _senders(conn).items():
        person = resolve(conn, sender)
        if person == "self":
            continue
        entry = by_key.setdefault(
            person_key(person),
            {"name": person, "names": [], "handles": [], "rel": None, "facts": 0, "eps": set()},
        )
        entry["eps"].update(episodes)
        mailbox = _MAILBOX.match(sender)
        shown = mailbox.group(1).strip().strip('"') if mailbox else sender
        handle = mailbox.group(2) if mailbox else (sender if len(_digits(sender)) >= 7 else None)
        if handle and not any(_same_handle(handle, h) for h in entry["handles"]):
            entry["handles"].append(handle)
        if (
            shown
            and shown != handle
            and shown.casefold() not in {n.casefold() for n in (entry["name"], *entry["names"])}
        ):
            entry["names"].append(shown)
    people = [
        Person(e["name"], e["names"], e["handles"], e["rel"], e["facts"], len(e["eps"]))
        for e in by_key.values()
    ]
    return sorted(people, key=lambda p: (-p.facts, -p.memories, p.name.casefold()))


def _senders(conn: sqlcipher3.Connection) -> dict[str, set[int]]:
    """Who wrote to the user: chat senders other than an AI assistant, and mail senders
    with a personal address; with the memories they wrote."""
    out: dict[str, set[int]] = {}
    for episode_id, sender, kind, ai in conn.execute(
        "SELECT id, sender, kind, json_extract(meta, '$.ai_assistant') FROM episodes "
        "WHERE author != 'self' AND sender IS NOT NULL AND kind IN ('message', 'email') "
        "AND quarantine IS NULL"
    ):
        if ai or (kind == "email" and personal_mailbox(sender) is None):
            continue
        out.setdefault(" ".join(sender.split()), set()).add(episode_id)
    return out


def _same_handle(a: str, b: str) -> bool:
    if "@" in a or "@" in b:
        return a.casefold() == b.casefold()
    return _digits(a)[-9:] == _digits(b)[-9:]


# -- merging and splitting ----------------------------------------------------------------


def stored_name(conn: sqlcipher3.Connection, name: str) -> str:
    """The stored person a user typed, resolved; refused when nobody is stored so."""
    person = resolve(conn, name)
    found = conn.execute(
        "SELECT person FROM facts WHERE person_key = ? LIMIT 1", (person_key(person),)
    ).fetchone()
    if found is None or person == "self":
        raise MemoryRefError(f"no person called {name!r}; `me people` lists them")
    return str(found[0])


def merge(conn: sqlcipher3.Connection, keep: str, other: str, engine: str, reason: str) -> int:
    """Move every fact of `other` to `keep`; `other` becomes one of keep's names. For a
    one-valued attribute the later value then closes the earlier one. Returns the
    change's id (undo it to split them again)."""
    if person_key(keep) == person_key(other):
        raise MemoryRefError(f"{keep!r} and {other!r} are already one person")
    change = Change(conn, "merge-people", reason, engine)
    ids = [
        r[0]
        for r in conn.execute("SELECT id FROM facts WHERE person_key = ?", (person_key(other),))
    ]
    for fact_id in ids:
        change.before("fact", fact_id)
    conn.execute(
        "UPDATE facts SET person = ?, person_key = ?, updated_at = ? WHERE person_key = ?",
        (keep, person_key(keep), now_iso(), person_key(other)),
    )
    known = conn.execute(
        "SELECT 1 FROM facts WHERE person_key = ? AND attribute = 'nickname' AND value_key = ?",
        (person_key(keep), value_key(other)),
    ).fetchone()
    if known is None and not _MAILBOX.match(other):  # the name keeps finding this person
        stamp = now_iso()
        nickname = inserted_id(
            conn.execute(
                "INSERT INTO facts (person, person_key, attribute, value, value_key, "
                "confidence, origin, engine, created_at, updated_at) "
                "VALUES (?, ?, 'nickname', ?, ?, 1.0, 'extracted', ?, ?, ?)",
                (keep, person_key(keep), other, value_key(other), engine, stamp, stamp),
            )
        )
        change.created("fact", nickname)
    _settle(conn, change, keep)
    return change.finish()


def _settle(conn: sqlcipher3.Connection, change: Change, person: str) -> None:
    """After a merge, one current value per one-valued attribute: what the user set
    wins (the rest are shadowed); otherwise each value is closed by the next one."""
    rows = conn.execute(
        f"SELECT id, attribute, valid_from, origin, pinned FROM facts WHERE person_key = ? "
        f"AND {_CURRENT} ORDER BY attribute, coalesce(valid_from, ''), id",
        (person_key(person),),
    ).fetchall()
    slots: dict[str, list[tuple[int, str | None, bool]]] = {}
    for fact_id, attribute, valid_from, origin, pinned in rows:
        if is_single(attribute):
            mine = origin == "user" or bool(pinned)
            slots.setdefault(attribute, []).append((fact_id, valid_from, mine))
    for held in slots.values():
        if len(held) < 2:
            continue
        settled = [f for f in held if f[2]]
        for i, (fact_id, _, mine) in enumerate(held):
            if settled and not mine:
                change.before("fact", fact_id)
                conn.execute("UPDATE facts SET status = 'shadowed' WHERE id = ?", (fact_id,))
            elif not settled and i + 1 < len(held):
                later_id, later_from, _ = held[i + 1]
                change.before("fact", fact_id)
                conn.execute(
                    "UPDATE facts SET valid_to = ?, superseded_by = ?, status = 'active' "
                    "WHERE id = ?",
                    (later_from, later_id, fact_id),
                )


def consolidate(conn: sqlcipher3.Connection, engine: str) -> list[tuple[str, str]]:
    """Merge every stored name that is someone else's first name, nickname, handle or
    relationship word into that person (unless the user split them); returns the
    (kept, merged) pairs."""
    done: list[tuple[str, str]] = []
    for (person,) in conn.execute(
        "SELECT DISTINCT person FROM facts WHERE person_key != 'self' ORDER BY person"
    ).fetchall():
        target = _elsewhere(conn, person)
        if target is None or apart(conn, target, person):
            continue
        merge(conn, target, person, engine, f"{person!r} is another name of {target!r}")
        done.append((target, person))
    return done


def _elsewhere(conn: sqlcipher3.Connection, person: str) -> str | None:
    """Who a stored name really is, when someone else: the user, the person behind a
    mailbox ("Ana <ana@x.org>"), or the one person it is another name of."""
    mailbox = _MAILBOX.match(person)
    if mailbox:
        found = resolve(conn, person)
        return found if person_key(found) != person_key(person) else None
    if _is_user(conn, person):
        return "self"
    return other_name_of(conn, person)


def apart(conn: sqlcipher3.Connection, a: str, b: str) -> bool:
    pair = sorted((person_key(a), person_key(b)))
    found = conn.execute(
        "SELECT 1 FROM people_apart WHERE a = ? AND b = ?", (pair[0], pair[1])
    ).fetchone()
    return found is not None


def split(conn: sqlcipher3.Connection, name: str) -> tuple[str, int]:
    """Undo the latest merge that folded `name` into someone, and keep the two apart
    from then on; returns (the person it was merged into, the undo's change id)."""
    key = person_key(name)
    for (change_id,) in conn.execute(
        "SELECT id FROM changes WHERE op = 'merge-people' AND undone_by IS NULL ORDER BY id DESC"
    ).fetchall():
        record = load_change(conn, change_id)
        if record is None:
            continue
        before = [r.old for r in record.rows if r.kind == "fact" and r.old]
        if not any(old.get("person_key") == key for old in before):
            continue
        kept = next(str(r.new["person"]) for r in record.rows if r.new and "person" in r.new)
        undo_id = undo(conn, change_id)
        conn.execute(
            "INSERT OR IGNORE INTO people_apart (a, b) VALUES (?, ?)",
            sorted((key, person_key(kept))),
        )
        return kept, undo_id
    raise MemoryRefError(f"{name!r} was not merged into anyone; `me people` lists people")

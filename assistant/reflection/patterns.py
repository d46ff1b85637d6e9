"""The rules of the builtin fact extraction: each is a regular expression that reads one
attribute right after a subject ("I", "my sister Ana", "Ana's"), and a reader that turns
the match into facts with the value cleaners of values.py.

A rule only reads; extract.py decides whether the sentence around the match (a question,
a negation, a report, a hypothesis) lets the fact stand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from assistant.derived.people import relationship_word
from assistant.reflection.lexicon import (
    CHILD_RELATIONS,
    COUNTRIES,
    DEMONYMS,
    DIETS,
    FAMILY_TITLES,
    NOT_NAMES,
    PARTNER_RELATIONS,
    PLAYED,
    RELATIONS,
    SPECIES,
    UNLABELLED_RELATIONS,
    VEHICLE_BRANDS,
    VEHICLE_NOUNS,
)
from assistant.reflection.values import (
    MAX_VALUE,
    address_value,
    allergen_value,
    day_month,
    diet_value,
    hobby_value,
    job_title,
    language_value,
    list_values,
    proper_value,
    thing_value,
    trim,
)

# --- pattern pieces -------------------------------------------------------------------


def alternation(options: tuple[str, ...] | frozenset[str]) -> str:
    """A regex alternation, longest first so "golden retriever" wins over "retriever"."""
    ordered = sorted(options, key=len, reverse=True)
    return "|".join(re.escape(o).replace(r"\ ", r"\s+") for o in ordered)


_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
NAME_WORD = rf"[{_UPPER}][{_LOWER}]+(?:['’-][{_UPPER}][{_LOWER}]+)?"
# Case-sensitive inside an otherwise case-insensitive pattern: a name is capitalised.
NAME = rf"(?-i:(?:(?:Mr|Mrs|Ms|Mx|Dr|Prof)\.?\s+)?{NAME_WORD}(?:\s+{NAME_WORD}){{0,2}})"
_TOKEN = rf"(?-i:[{_UPPER}0-9][\w'’&.+-]*)"
_CONNECT = r"(?-i:of|for|de|do|da|dos|das|del|della|di|du|la|le|les|am|upon|the|y|e|&)"
PROPER = rf"(?:the\s+)?{_TOKEN}(?:(?:\s+{_CONNECT})*\s+{_TOKEN})*"
_LOWER_WORD = rf"(?-i:[{_LOWER}][{_LOWER}-]+)"
EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
PHONE = r"\+?\(?\d[\d ().-]{5,}\d"
# Verb-phrase glue between a subject and its verb: an auxiliary, then adverbs.
_AUX = r"(?:['’](?:m|re|s|ve|ll)|\s+(?:am|are|is|have|has|will|shall|can))?(?:\s+(?:been|be))?"
_ADV = (
    r"(?:\s+(?:really|absolutely|totally|also|still|now|just|finally|officially|currently|"
    r"actually|already|recently|basically|definitely|seriously|honestly|literally|kinda|"
    r"so|very|mostly|mainly|happily|proudly))*"
)
_HEAD = _AUX + _ADV + r"\s*"
_BE = r"(?:['’](?:m|re|s)|\s+(?:am|are|is))" + _ADV + r"\s+"
# A taste takes no auxiliary: "is like" compares, "I'll enjoy" has not happened yet.
_TASTE = _ADV + r"\s*"
# "I've lived in Berlin" still holds; "I lived in Berlin" is over.
_PERFECT = r"(?:(?<='ve\s)|(?<=have\s)|(?<=has\s)|(?<='s\s))"


@dataclass(frozen=True)
class Subject:
    """Who a predicate is about, and where its predicate may start."""

    person: str
    start: int
    end: int
    possessive: bool  # "my", "Ana's": the predicate is a noun ("birthday is ...")
    third_person: bool
    speaker: str  # whom "my" refers to: relationships are only recorded relative to 'self'


RELATION = alternation(RELATIONS)


def clean_name(name: str) -> str:
    """ "Grandma Rosa" -> "Rosa": the title says who she is, not what she is called."""
    words = name.split()
    if len(words) > 1 and words[0].casefold() in FAMILY_TITLES:
        words = words[1:]
    return " ".join(words)


# --- rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """One fact a rule read, before guards and dating."""

    person: str
    attribute: str
    value: str
    confidence: float
    end: int  # where the match ends in the sentence
    negation_ok: bool = False  # the rule's own words are negative ("don't like")
    dated: bool = True  # False when the date in the sentence is the value itself


Reader = Callable[[re.Match[str], Subject, str], list[Found]]


@dataclass(frozen=True)
class Rule:
    """One way of stating an attribute: a pattern anchored right after a subject."""

    attribute: str
    pattern: re.Pattern[str]
    read: Reader


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.VERBOSE)


def value_end(m: re.Match[str], value: str, group: str = "v") -> int:
    """Where `value` ends in the sentence: patterns read greedily and trim afterwards, and
    the guards and the dating must look at the words actually used, not the whole tail."""
    found = m.group(group).casefold().find(value.casefold())
    return m.start(group) + found + len(value) if found >= 0 else m.end()


def _one(attribute: str, confidence: float, clean: Callable[[str], str | None]) -> Reader:
    """A reader that takes group "v", cleans it and makes one fact."""

    def read(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
        value = clean(m.group("v"))
        if not value:
            return []
        return [Found(subject.person, attribute, value, confidence, value_end(m, value))]

    return read


def _many(attribute: str, confidence: float, keep: Callable[[str], str | None]) -> Reader:
    """A reader for a list in group "v" ("Portuguese and German"): one fact per item."""

    def read(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
        kept = [(raw, keep(raw)) for raw in list_values(m.group("v"))]
        values = [(raw, v) for raw, v in kept if v]
        if not values:
            return []
        end = value_end(m, values[-1][0])
        return [Found(subject.person, attribute, v, confidence, end) for _, v in values]

    return read


def _place(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    value = proper_value(m.group("v"))
    if value is None:
        return []
    attribute = "country" if value.casefold() in COUNTRIES else "city"
    confidence = 0.85 if value[0].isupper() else 0.7
    return [Found(subject.person, attribute, value, confidence, value_end(m, value))]


def _employer(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    # "work for the city council" names an employer; "joined the call" does not.
    value = proper_value(m.group("v"), lowercase_words=2 if m.groupdict().get("loose") else 0)
    if value is None:
        return []
    end = value_end(m, value)
    confidence = 0.85 if value[0].isupper() else 0.7
    found = [Found(subject.person, "employer", value, confidence, end)]
    role = _ROLE.match(sentence, end)
    title = job_title(role.group("t")) if role else None
    if role and title:
        title_end = role.start("t") + len(title)
        found.append(Found(subject.person, "job_title", title, 0.8, title_end))
    return found


_ROLE = re.compile(r"[^.;!?]*?\bas\s+(?:an?\s+|the\s+)?(?P<t>[\w\s-]+)", re.IGNORECASE)


_ENDED_JOB = re.compile(
    r"\b(?:lost|lose|losing|quit|quitting|left|leaving|leave|resigned\s+from|fired\s+from|"
    r"hate|miss|missed)\s+$",
    re.IGNORECASE,
)


def _my_job(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    """ "my new job at IKEA" names the employer; "I lost my job at IKEA" does not."""
    if _ENDED_JOB.search(sentence, 0, subject.start):
        return []
    return _employer(m, subject, sentence)


def _job(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    title = job_title(m.group("v"))
    if title is None:
        return []
    title_end = m.start("v") + len(title)
    found = [Found(subject.person, "job_title", title, 0.8, title_end)]
    org = _AT_ORG.match(sentence, title_end)
    value = proper_value(org.group("v"), lowercase_words=0) if org else None
    if org and value:
        found.append(Found(subject.person, "employer", value, 0.8, value_end(org, value)))
    return found


# Words that may follow a pet's species; any other word makes it a compound noun
# ("a cat video", "dog food").
_AFTER_SPECIES = re.compile(
    r"\s*(?:$|[,.;:!?)(-]|[^\w\s]|(?:called|named|and|from|last|this|yesterday|today|in|"
    r"for|who|which|that|at|with|on|since|recently|too|as|back|of|when|after|because|so|"
    r"but|lol|haha|now)\b)",
    re.IGNORECASE,
)


# "we got a cat, her name is Luna"
_PET_NAME_AFTER = re.compile(
    rf"\s*,\s*(?:(?:her|his|its|their)\s+name\s+is|(?:she|he|it)(?:'s|\s+is)\s+"
    rf"(?:called|named))\s+(?P<n>{NAME})",
    re.IGNORECASE,
)


def _pet(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    if not m.group("pname") and not _AFTER_SPECIES.match(sentence, m.end()):
        return []
    species = " ".join(m.group("species").casefold().split())
    name = m.group("pname")
    if not name:
        later = _PET_NAME_AFTER.match(sentence, m.end())
        name = later.group("n") if later else None
    value = f"{name} ({species})" if name else species
    return [Found(subject.person, "pet", value, 0.85, m.end())]


def _vehicle(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    value = trim(m.group("v"))
    if value.casefold() in VEHICLE_NOUNS:
        # "a motorbike last week, a Yamaha MT-07": the make names it better.
        later = _MAKE_AFTER.search(sentence, m.end(), m.end() + MAX_VALUE)
        if later:
            value = trim(later.group("b"))
    return [Found(subject.person, "vehicle", value, 0.8, m.end())]


_VEHICLE_MAKE = rf"(?:{alternation(VEHICLE_BRANDS)})\b(?:\s+(?-i:[A-Z0-9][\w-]*)){{0,2}}"
_MAKE_AFTER = re.compile(rf",\s*an?\s+(?P<b>{_VEHICLE_MAKE})", re.IGNORECASE)


def _nationality(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    return [Found(subject.person, "nationality", m.group("v").capitalize(), 0.8, m.end())]


def _birthday(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    value = day_month(m.group("v"))
    if value is None:
        return []
    return [Found(subject.person, "birthday", value, 0.9, m.end(), dated=False)]


def _anniversary(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    value = day_month(m.group("v"))
    if value is None:
        return []
    kind = " ".join(m.group("kind").casefold().split())
    return [
        Found(subject.person, "important_date", f"{value} ({kind})", 0.85, m.end(), dated=False)
    ]


_MORE_CHILDREN = re.compile(
    rf"""\s*,?\s*(?:and|&)\s+(?P<count>an?|one|two|three|\d)\s+(?P<kind>son|daughter|kid|
    child|kids|children|sons|daughters|boys|girls)(?:\s+(?:named|called)|\s*[,:])\s+
    (?P<names>{NAME}(?:\s*(?:,|and|&)\s*{NAME})*)""",
    re.IGNORECASE | re.VERBOSE,
)


def _children(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    """ "we have two kids, Tom and Lia", "a son, Mateo, and a daughter, Sara"."""
    found: list[Found] = []
    match: re.Match[str] | None = m
    while match is not None:
        kind = match.group("kind").casefold()
        names = re.findall(NAME, match.group("names"))
        found.extend(Found(subject.person, "child", n, 0.85, match.end()) for n in names)
        if kind in ("son", "daughter") and len(names) == 1 and subject.person == "self":
            found.append(Found(names[0], "relationship", kind, 0.85, match.end()))
        match = _MORE_CHILDREN.match(sentence, match.end())
    return found


def _relative(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    """ "my husband's name is João", "Emma's husband is called Noah"."""
    word = " ".join(m.group("relw").casefold().split())
    name = clean_name(m.group("n"))
    return relation_facts(subject.person, name, word, m.end())


def relation_facts(owner: str, name: str, word: str, end: int) -> list[Found]:
    found = []
    if word in PARTNER_RELATIONS:
        found.append(Found(owner, "partner", name, 0.85, end))
    elif word in CHILD_RELATIONS:
        found.append(Found(owner, "child", name, 0.85, end))
    if owner == "self" and word not in UNLABELLED_RELATIONS:
        found.append(Found(name, "relationship", relationship_word(word), 0.85, end))
    return found


def _is_relation(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    """ "Ana is my sister": only the user's relations are recorded."""
    if subject.speaker != "self" or not subject.third_person:
        return []
    word = " ".join(m.group("relw").casefold().split())
    return relation_facts("self", subject.person, word, m.end())


def _name(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    value = m.group("v")
    if value.split()[0].casefold() in NOT_NAMES:
        return []
    return [Found(subject.person, "name", value, 0.9, m.end())]


def _dislike(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    value = thing_value(m.group("v"))
    if value is None:
        return []
    end = value_end(m, value)
    return [Found(subject.person, "dislikes", value, 0.75, end, negation_ok=True)]


def _school(m: re.Match[str], subject: Subject, sentence: str) -> list[Found]:
    value = proper_value(m.group("v"), lowercase_words=0)
    return [Found(subject.person, "school", value, 0.8, value_end(m, value))] if value else []


_AT_ORG = re.compile(rf"\s+(?:at|for|with)\s+(?P<v>{PROPER})", re.IGNORECASE)
_DIET = alternation(DIETS)
_PLAYED = alternation(PLAYED)
_SPECIES = alternation(SPECIES)
_DEMONYM = alternation(DEMONYMS)
_VEHICLE = rf"(?:{_VEHICLE_MAKE}|(?:{alternation(VEHICLE_NOUNS)})\b)"
_REST = r"(?P<v>[^.;!?]+)"  # the rest of the clause; the reader cuts it to the value
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th)?"
_DAY_MONTH = (
    rf"(?P<v>(?:the\s+)?{_ORDINAL}(?:\s+of)?\s+\w+\.?(?:,?\s+\d{{4}})?"
    rf"|\w+\.?\s+{_ORDINAL}(?:,?\s+\d{{4}})?)"
)
_SCHOOL_NAME = rf"(?P<v>(?:the\s+)?(?:{_TOKEN}(?:(?:\s+{_CONNECT})*\s+{_TOKEN})*))"
_FREQUENCY = r"(?:every|each|twice|once|three\s+times|regularly|daily|weekly|most\s+days)"

_allergies = _many("allergy", 0.9, allergen_value)
_allergy = _one("allergy", 0.85, allergen_value)
_diet_is = _one("diet", 0.85, diet_value)
_diet_went = _one("diet", 0.8, diet_value)
_languages = _many("language", 0.85, language_value)
_language_one = _one("language", 0.9, language_value)
_likes = _one("likes", 0.75, thing_value)
_likes_weak = _one("likes", 0.65, thing_value)
_hobby_one = _one("hobby", 0.75, hobby_value)
_hobbies = _many("hobby", 0.85, hobby_value)
_partner = _one("partner", 0.85, clean_name)
_home = _one("address", 0.85, address_value)
_address_is = _one("address", 0.9, address_value)
_email = _one("email", 0.95, trim)
_phone = _one("phone", 0.95, trim)
_nickname = _one("nickname", 0.9, clean_name)

# Rules tried right after "I", "we", "Ana", "my sister Ana", an implied "I" ("just moved
# to Porto") or a resolved "he"/"she". Verb forms are loose ("live"/"lives"): the subject
# was already found, and agreement is checked apart (THIRD_PERSON_VERB).
# fmt: off
AGENT_RULES: tuple[Rule, ...] = (
    # I live in Porto / I've lived in Berlin / moving to Madrid in March
    Rule("city", _c(rf"""{_HEAD}(?:(?:live|lives|living|reside|resides|residing|based|settled|
        {_PERFECT}lived)\s+in|(?:move|moves|moved|moving|relocated|relocating|relocate)
        (?:\s+back)?\s+to)\s+(?P<v>{PROPER}|{_LOWER_WORD})"""), _place),
    # I work at Siemens / for the city council / for a startup called Lumen
    Rule("employer", _c(rf"""{_HEAD}(?:work|works|working|{_PERFECT}worked)
        (?:\s+(?:remotely|full[- ]time|part[- ]time|freelance))?\s+(?:at|for)\s+
        (?:an?\s+\w+\s+(?:called|named)\s+)?
        (?P<v>(?P<loose>the\s+{_LOWER_WORD}(?:\s+{_LOWER_WORD})?)|{PROPER})"""),
        _employer),
    # I started at Acme / joined Google / starting my new job at IKEA
    Rule("employer", _c(rf"""{_HEAD}(?:start|starts|started|starting|begin|began|begins|
        beginning|joined|joining|join|joins)(?:\s+(?:a|my|the|his|her)\s+(?:new\s+)?
        (?:job|role|position|work))?(?:\s+(?:at|with))?\s+(?P<v>{PROPER})"""), _employer),
    # got a job at Spotify / landed a position with Bosch (an offer is not a job: it may
    # be declined, and "first day at" says when it became true)
    Rule("employer", _c(rf"""{_HEAD}(?:got|landed|accepted|took)\s+(?:a|an|the|my)?\s*
        (?:new\s+)?(?:job|position|role)\s+(?:at|with)\s+(?P<v>{PROPER})"""),
        _employer),
    # got hired by Microsoft
    Rule("employer", _c(rf"""{_HEAD}(?:got\s+|been\s+|was\s+|am\s+|get\s+)?
        (?:hired|employed|recruited)\s+(?:by|at)\s+(?P<v>{PROPER})"""), _employer),
    # I'm a nurse / I'm now the head of marketing at Zalando
    Rule("job_title", _c(rf"""{_BE}(?:now\s+)?(?:an?|the)\s+(?P<v>[\w\s-]+)"""), _job),
    # I work as a teacher
    Rule("job_title", _c(rf"""{_HEAD}(?:work|works|working)\s+as\s+(?:an?\s+|the\s+)?
        (?P<v>[\w\s-]+)"""), _job),
    # I got promoted to senior engineer / became a nurse
    Rule("job_title", _c(rf"""{_HEAD}(?:got\s+|been\s+|was\s+)?(?:promoted|became|become)
        \s+(?:to\s+)?(?:an?\s+|the\s+)?(?P<v>[\w\s-]+)"""), _job),
    # I'm allergic to penicillin and shellfish
    Rule("allergy", _c(rf"""{_BE}(?:very\s+|severely\s+|mildly\s+|deathly\s+|slightly\s+|
        highly\s+)?allergic\s+to\s+{_REST}"""), _allergies),
    # I have a severe gluten allergy
    Rule("allergy", _c(rf"""{_HEAD}(?:have|has|got)\s+(?:an?\s+)?(?:severe\s+|mild\s+|bad\s+|
        serious\s+|slight\s+)?(?P<v>[\w-]+)\s+allergy"""), _allergy),
    # I'm vegetarian / I'm a vegan
    Rule("diet", _c(rf"""{_BE}(?:an?\s+)?(?:strict\s+|full\s+|fully\s+)?(?P<v>{_DIET})\b"""),
        _diet_is),
    # I went gluten-free / been vegan for a while
    Rule("diet", _c(rf"""{_HEAD}(?:went|gone|go|going|turned|became|become|been)\s+
        (?:an?\s+)?(?:full\s+|fully\s+)?(?P<v>{_DIET})\b"""), _diet_went),
    # I speak Portuguese and German
    Rule("language", _c(rf"""{_HEAD}(?:speak|speaks|speaking)\s+{_REST}"""), _languages),
    # I'm fluent in Dutch
    Rule("language", _c(rf"""{_BE}(?:also\s+)?fluent\s+in\s+{_REST}"""), _languages),
    # I'm a native Polish speaker
    Rule("language", _c(rf"""{_BE}an?\s+native\s+(?P<v>\w+)\s+speaker"""), _language_one),
    # I love hiking (not "I love the idea": a thing at hand, not a taste)
    Rule("likes", _c(rf"""{_TASTE}(?:love|loves|like|likes|enjoy|enjoys|adore|adores)\s+
        (?!the\b|this\b|that\b|these\b|those\b){_REST}"""), _one("likes", 0.7, thing_value)),
    # I'm a big fan of jazz
    Rule("likes", _c(rf"""{_BE}(?:an?\s+)?(?:big\s+|huge\s+|massive\s+|great\s+)?fan\s+of\s+
        {_REST}"""), _likes),
    # I'm a huge Arsenal fan
    Rule("likes", _c(rf"""{_BE}(?:an?\s+)?(?:big\s+|huge\s+|massive\s+)?(?P<v>{_TOKEN}
        (?:\s+{_TOKEN})?)\s+fan\b"""), _one("likes", 0.7, thing_value)),
    # I'm into bouldering
    Rule("likes", _c(rf"""{_BE}(?:really\s+|totally\s+|so\s+)?into\s+{_REST}"""), _likes_weak),
    # I hate olives / can't stand cilantro / really don't like mushrooms
    Rule("dislikes", _c(rf"""{_TASTE}(?:hate|hates|dislike|dislikes|detest|detests|loathe|
        loathes|can't\s+stand|cannot\s+stand|can't\s+bear|do\s+not\s+like|don't\s+like|
        does\s+not\s+like|doesn't\s+like)\s+{_REST}"""), _dislike),
    # I'm not a fan of mornings
    Rule("dislikes", _c(rf"""{_BE}not\s+(?:an?\s+)?(?:big\s+|huge\s+|great\s+)?fan\s+of\s+
        {_REST}"""), _dislike),
    # I play tennis / the guitar
    Rule("hobby", _c(rf"""{_HEAD}(?:play|plays|playing)\s+(?:the\s+|some\s+|a\s+lot\s+of\s+)?
        (?P<v>{_PLAYED})\b"""), _hobby_one),
    # I've taken up pottery
    Rule("hobby", _c(rf"""{_HEAD}(?:took|taken|take|takes|taking)\s+up\s+(?P<v>[^.;!?,]+)"""),
        _hobby_one),
    # I go climbing twice a week
    Rule("hobby", _c(rf"""{_HEAD}(?:go|goes)\s+(?P<v>\w+ing)\b(?<!going)"""),
        _one("hobby", 0.7, hobby_value)),
    # I do yoga every morning
    Rule("hobby", _c(rf"""{_HEAD}(?:do|does|practi[sc]e|practi[sc]es)\s+(?P<v>[\w-]+)
        (?=\s+{_FREQUENCY})"""), _one("hobby", 0.7, hobby_value)),
    # we adopted a dog called Miso / I have a golden retriever
    Rule("pet", _c(rf"""{_HEAD}(?:adopted|got|have|has|rescued|bought|own|owns)\s+
        (?:an?\s+|two\s+|our\s+first\s+|my\s+first\s+)?(?:new\s+|little\s+|rescue\s+|baby\s+)*
        (?P<species>{_SPECIES})\b(?:\s+(?:called|named)\s+(?P<pname>{NAME}))?"""), _pet),
    # I bought a Honda Civic / I drive a Tesla Model 3 / just got a new bike
    Rule("vehicle", _c(rf"""{_HEAD}(?:bought|got|drive|drives|driving|own|owns|ride|rides|
        riding|have|has|leased)\s+(?:an?\s+|the\s+|my\s+|our\s+)?(?:new\s+|used\s+|
        second[- ]hand\s+|shiny\s+|electric\s+|little\s+|old\s+|first\s+)*
        (?P<v>{_VEHICLE})"""), _vehicle),
    # I'm Portuguese / I'm a Brazilian citizen (not "I'm English teacher's...")
    Rule("nationality", _c(rf"""{_BE}(?:an?\s+)?(?P<v>{_DEMONYM})(?:\s+(?:citizen|national))?
        (?=\s*(?:$|[,.;!)]|\s+(?:and|but|by|too|btw|lol|now|myself|though|citizen|national|
        born)\b))"""), _nationality),
    # I got my Irish passport
    Rule("nationality", _c(rf"""{_HEAD}(?:got|have|has|hold|holds|received)\s+
        (?:my\s+|an?\s+)?(?:new\s+)?(?P<v>{_DEMONYM})\s+(?:passport|citizenship|nationality)"""),
        _nationality),
    # I became a German citizen
    Rule("nationality", _c(rf"""{_HEAD}became\s+(?:an?\s+)?(?P<v>{_DEMONYM})\s+citizen"""),
        _nationality),
    # I study at the University of Porto / studying medicine at Charité
    Rule("school", _c(rf"""{_HEAD}(?:study|studies|studying)(?:\s+[a-z][\w'-]*){{0,3}}\s+
        (?:at|in)\s+{_SCHOOL_NAME}"""), _school),
    # I'm a student at UCL
    Rule("school", _c(rf"""{_BE}an?\s+(?:\w+\s+)?student\s+(?:at|in)\s+{_SCHOOL_NAME}"""),
        _school),
    # I go to Lincoln High School
    Rule("school", _c(rf"""{_HEAD}(?:go|goes|going|went)\s+to\s+(?P<v>(?:the\s+)?{_TOKEN}
        (?:(?:\s+{_CONNECT})*\s+{_TOKEN})*\s+(?-i:School|University|College|Academy|Institute|
        Polytechnic|High|Uni|Conservatory)(?:(?:\s+{_CONNECT})*\s+{_TOKEN})*)"""), _school),
    # I'm starting my master's at ETH Zurich
    Rule("school", _c(rf"""{_HEAD}(?:start|starts|started|starting|begin|began|beginning|
        doing)\s+(?:my|his|her|a)\s+(?:master's|masters|bachelor's|bachelors|phd|ph\.d\.|
        degree|studies|mba|doctorate|course)\s+(?:at|in)\s+{_SCHOOL_NAME}"""), _school),
    # I enrolled at TU Delft
    Rule("school", _c(rf"""{_HEAD}(?:enrolled|accepted)\s+(?:at|in|into)\s+{_SCHOOL_NAME}"""),
        _school),
    # I'm married to Sofia
    Rule("partner", _c(rf"""{_HEAD}(?:married|engaged)\s+to\s+(?P<v>{NAME})"""), _partner),
    # we have two kids, Tom and Lia / I have a daughter named Ines
    Rule("child", _c(rf"""{_HEAD}(?:have|has)\s+(?:an?|one|two|three|four|\d)\s+
        (?P<kind>son|daughter|kid|child|kids|children|sons|daughters|boys|girls)
        (?:\s+(?:named|called)|\s*[,:])\s+(?P<names>{NAME}(?:\s*(?:,|and|&)\s*{NAME})*)"""),
        _children),
    # I was born on 12 August 1988
    Rule("birthday", _c(rf"""\s+(?:was|were)\s+born\s+(?:on\s+)?{_DAY_MONTH}"""), _birthday),
    # I live at 5 Rue de Rivoli, 75001 Paris
    Rule("address", _c(rf"""{_HEAD}(?:live|lives|living)\s+at\s+(?P<v>\d[^.!?]*)"""), _home),
    # Ana is my sister
    Rule("relationship", _c(rf"""{_BE}(?:my|our)\s+(?P<relw>{RELATION})\b"""), _is_relation),
)

# Rules tried after "my", "our", "Ana's", "my sister Ana's" or an implied "new ...".
POSSESSIVE_RULES: tuple[Rule, ...] = (
    # my email is ... / my email changed, it's now ...
    Rule("email", _c(rf"""\s*(?:new\s+|current\s+|personal\s+|work\s+|updated\s+)?
        (?:e-?mail|mail)(?:\s+address)?\b[^@?]{{0,40}}?(?P<v>{EMAIL})"""), _email),
    # my new number is +351 912 345 678
    Rule("phone", _c(rf"""\s*(?:new\s+|current\s+|updated\s+|work\s+|personal\s+)?
        (?:phone|mobile|cell|number|whatsapp)(?:\s+number)?\b[^\d+?]{{0,30}}?
        (?P<v>{PHONE})"""), _phone),
    # my new address is Rua das Flores 123, 4050-265 Porto
    Rule("address", _c(r"""\s*(?:new\s+|home\s+|postal\s+|current\s+|mailing\s+)*address
        \s*(?:is(?:\s+now)?|:|=|-)\s*(?P<v>[^!?]+)"""), _address_is),
    # Ana's birthday is 3 May
    Rule("birthday", _c(rf"""\s*(?:birthday|bday|b-day|date\s+of\s+birth|dob)
        \s*(?:is|'s|:|=|-)?\s*(?:on\s+)?{_DAY_MONTH}"""), _birthday),
    # our anniversary is on 12 June
    Rule("important_date", _c(rf"""\s*(?P<kind>(?:wedding\s+|dating\s+)?anniversary)\s*
        (?:is|'s|:|=|-)?\s*(?:on\s+)?{_DAY_MONTH}"""), _anniversary),
    # my name is Ana Ribeiro
    Rule("name", _c(rf"""\s*(?:full\s+|real\s+)?name\s*(?:is|'s|:)\s+(?P<v>{NAME})"""), _name),
    # my nickname is Mo
    Rule("nickname", _c(rf"""\s*nickname\s*(?:is|'s|:)\s+(?P<v>{NAME})"""), _nickname),
    # my hobbies are chess and birdwatching
    Rule("hobby", _c(r"""\s*(?:favou?rite\s+)?(?:hobby|hobbies|pastime|pastimes)\s*
        (?:is|are|include|includes|:)\s+(?P<v>[^.;!?]+)"""), _hobbies),
    # my native language is Polish
    Rule("language", _c(r"""\s*(?:native|first|mother)\s+(?:language|tongue)\s*(?:is|:)\s+
        (?P<v>\w+)"""), _language_one),
    # my husband's name is João / Emma's husband is called Noah
    Rule("relationship", _c(rf"""\s*(?P<relw>{RELATION})(?:'s\s+name\s+is|\s+is\s+called|
        \s+is\s+named|'s\s+called|\s*:)\s+(?P<n>{NAME})"""), _relative),
    # my dog Rex
    Rule("pet", _c(rf"""\s*(?:new\s+|little\s+)?(?P<species>{_SPECIES})(?:\s+is\s+called|
        \s+is\s+named|,)?\s+(?P<pname>{NAME})"""), _pet),
    # my new job at IKEA (not "I lost my job at IKEA")
    Rule("employer", _c(rf"""\s*(?:new\s+)?(?:job|work|position)\s+(?:at|with)\s+
        (?P<v>{PROPER})"""), _my_job),
    # my first day at Maré Energy: the event that makes the new employer true
    Rule("employer", _c(rf"""\s*first\s+(?:day|week)\s+(?:of\s+work\s+)?(?:at|with)\s+
        (?P<v>{PROPER})"""), _my_job),
)
# fmt: on


# Statements about the speaker that need no subject before them ("call me Mo").
_NICKNAME = re.compile(
    rf"\b(?:call|calls|called)\s+me\s+(?P<v>{NAME})\b(?!\s*\d)|\bgo\s+by\s+(?P<v2>{NAME})\b",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    rf"\b(?:reach|contact|email|e-mail|text|call|ring|whatsapp|message|find|write\s+to)\s+me"
    rf"\s+(?:at|on|via)\s+(?:(?P<email>{EMAIL})|(?P<phone>{PHONE}))|\bdrop\s+me\s+an?\s+"
    rf"(?:line|message|note|email)\s+(?:at|on)\s+(?:(?P<email2>{EMAIL})|(?P<phone2>{PHONE}))",
    re.IGNORECASE,
)
# "New one is +351 965 300 418" after "I'm changing my number": a new number with no
# "my" before it is still the speaker's, since only a phone number can be its value.
_NEW_NUMBER = re.compile(
    rf"^(?:(?:ok|so|btw|fyi|heads\s+up)[,:!.\s]+)?(?:the\s+|my\s+)?new\s+(?:one|number|no\.?|"
    rf"mobile|phone)\s*(?:is|:|=|-|will\s+be)?\s*(?P<phone>{PHONE})",
    re.IGNORECASE,
)
_INTRO = re.compile(
    rf"^(?:(?:hi|hello|hey|good\s+(?:morning|afternoon|evening))(?:\s+(?:everyone|everybody|"
    rf"all|there|guys|folks|team|y'?all))?[,!.\s]+|(?:let\s+me|allow\s+me\s+to)\s+introduce\s+"
    rf"myself[:,.\s]+)(?:I'm|I\s+am|this\s+is)\s+(?P<v>{NAME})"
    rf"|^(?:(?:nice|pleased|glad)\s+to\s+meet\s+(?:you|y'?all|everyone)[,!.\s]+)"
    rf"(?:I'm|I\s+am)\s+(?P<v3>{NAME})"
    rf"|^I'm\s+(?P<v2>{NAME}),?\s+(?:nice|pleased|glad)\s+to\s+meet",
    re.IGNORECASE,
)


# "First day at Maré Energy today!", "Signed the lease for Rua das Flores 12": events
# told without a subject, which make a new employer or address true.
_FIRST_DAY = re.compile(
    rf"^(?:(?:today|yesterday)\s+(?:was|is)\s+)?(?:the\s+)?first\s+(?:day|week)\s+"
    rf"(?:of\s+work\s+)?(?:at|with)\s+(?P<v>{PROPER})",
    re.IGNORECASE,
)
_LEASE = re.compile(
    r"\b(?:signed|sign)\s+(?:the|our|my|a)\s+(?:new\s+)?(?:lease|rental\s+contract|"
    r"tenancy(?:\s+agreement)?)\s+(?:for|on)\s+(?P<v>\d[^.!?]*|[A-Z][^.!?]*\d[^.!?]*)",
    re.IGNORECASE,
)

# Portuguese first-person statements (a family chat is often in it): "moro em Lisboa",
# "mudámo-nos para o Porto", "trabalho na Maré Energy". "Vamos viver para…" (we are
# going to live in) is a plan and matches nothing here.
_PT_PLACE = r"(?:em|no|na|nos|nas|para(?:\s+(?:o|a|os|as))?|pr[oa])"
_PT_HOME = re.compile(
    rf"\b(?:(?:já|agora)\s+)?(?:vivo|moro|vivemos|moramos|(?:estou|estamos)\s+a\s+"
    rf"(?:viver|morar)|mudei-me|mudámo-nos|mudamo-nos|mudámos|mudamos|mudei)\s+"
    rf"{_PT_PLACE}\s+(?P<v>{PROPER})",
    re.IGNORECASE,
)
_PT_WORK = re.compile(
    rf"\b(?:(?:já|agora)\s+)?(?:trabalho|trabalhamos|(?:estou|comecei)\s+a\s+trabalhar|"
    rf"entrei)\s+(?:em|no|na|nos|nas|para\s+(?:a|o))\s+(?P<v>{PROPER})",
    re.IGNORECASE,
)
# "A casa nova é na Rua do Mar 45, em Buarcos", "a minha morada é Rua X 12": a street
# with its number (without one it is a place, which _PT_HOME reads as a city).
_PT_ADDRESS = re.compile(
    r"\b(?:(?:a\s+)?(?:minha|nossa)\s+)?(?:casa|morada)(?:\s+nova)?\s+(?:é|fica)\s+"
    r"(?:(?:na|no|em)\s+)?(?P<v>[A-ZÀ-Ý][^.!?]*?\d[^.!?]*)",
    re.IGNORECASE,
)
# Before the verb, these make it no fact: not, never, if, maybe, want to, going to.
_PT_DOUBT = re.compile(
    r"\b(?:não|nao|nunca|nem|se|talvez|calhar|quem\s+sabe|quero|queremos|queria|gostava|"
    r"gostávamos|podemos|poderíamos|vamos|vou|ia|íamos|pensamos|pensar|acho)\b",
    re.IGNORECASE,
)


def speaker_statements(sentence: str, speaker: str) -> Iterator[tuple[int, Found]]:
    """Facts about the speaker that hang on "me", an introduction or an event told
    without a subject, not on a subject."""
    for m in _NICKNAME.finditer(sentence):
        value = m.group("v") or m.group("v2")
        if value.split()[0].casefold() not in NOT_NAMES:
            yield m.start(), Found(speaker, "nickname", value, 0.85, m.end())
    for m in _CONTACT.finditer(sentence):
        email = m.group("email") or m.group("email2")
        phone = m.group("phone") or m.group("phone2")
        attribute, value = ("email", email) if email else ("phone", phone)
        yield m.start(), Found(speaker, attribute, trim(value or ""), 0.85, m.end())
    new_number = _NEW_NUMBER.match(sentence)
    if new_number:
        value = trim(new_number.group("phone"))
        yield new_number.start("phone"), Found(speaker, "phone", value, 0.85, new_number.end())
    first = _FIRST_DAY.match(sentence)
    if first:
        value = proper_value(first.group("v"))
        if value:
            yield first.start("v"), Found(speaker, "employer", value, 0.85, first.end())
    for m in _LEASE.finditer(sentence):
        value = address_value(m.group("v"))
        if value:
            yield m.start(), Found(speaker, "address", value, 0.85, m.end())
    for m in _PT_ADDRESS.finditer(sentence):
        value = address_value(re.sub(r",\s+(?:em|no|na)\s+", ", ", m.group("v")))
        if value and not _PT_DOUBT.search(sentence, 0, m.start("v")):
            yield m.start(), Found(speaker, "address", value, 0.85, m.end())
    for pattern, attribute in ((_PT_HOME, "city"), (_PT_WORK, "employer")):
        for m in pattern.finditer(sentence):
            if _PT_DOUBT.search(sentence, 0, m.start("v")):
                continue
            value = proper_value(m.group("v"), lowercase_words=0)
            if value:
                if attribute == "city" and value.casefold() in COUNTRIES:
                    attribute = "country"
                yield m.start(), Found(speaker, attribute, value, 0.85, m.end())
    intro = _INTRO.match(sentence)
    if intro:
        group = next(g for g in ("v", "v2", "v3") if intro.group(g))
        value = intro.group(group)
        if value.split()[0].casefold() not in NOT_NAMES:
            yield intro.start(group), Found(speaker, "name", value, 0.8, intro.end())


# After a named subject comes a verb agreeing with it ("Tom works", "Ana moved") or an
# auxiliary; "Sounds like a plan" or "Always love this" start with no person at all.
THIRD_PERSON_VERB = re.compile(
    r"\s*(?:'s\b|(?:is|was|has|had|will|can|does|did|got|bought|went|became|began|took|"
    r"made|drove|rode|left|just|also|still|now|really|recently|finally|currently|already|"
    r"actually|always|never|totally|absolutely|officially)\b|"
    r"(?-i:[a-z]+(?:s|ed))\b)",
    re.IGNORECASE,
)

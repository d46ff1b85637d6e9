"""Matched text to a value's display form: "Porto next Friday" -> "Porto", "penicillin
and shellfish, so..." -> ["penicillin", "shellfish"], "March 3rd" -> "3 March". Each
function returns None when the text is not a value of its kind ("I love you", "I'm a
mess"), which is how most false matches are dropped.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from assistant.reflection.dates import DATE_RE, MONTHS, WEEKDAYS, month_number
from assistant.reflection.lexicon import (
    LANGUAGES,
    NOT_JOB_MODIFIERS,
    OCCUPATIONS,
    STOP_VALUES,
    words,
)

EMOJI = "\U0001f300-\U0001faff\u2600-\u27bf"
QUOTE = "<quote>"  # stands in for quoted words, which are not the speaker's own

# Chat filler that trails a value ("peanuts lol", "Porto now btw", "peanuts, still").
_FILLER = (
    r"(?:now|btw|lol|lmao|haha+|hehe|too|again|anymore|as\s+well|these\s+days|nowadays|"
    r"already|still|though|tho|actually|finally|officially|either|here|there|today|yet|ok|"
    r"okay|tbh|imo|unfortunately|fortunately|luckily|sadly|obviously|apparently|hah|:\)|:D|"
    r"remember|you\s+know|by\s+the\s+way|of\s+course|sorry|"
    r";\)|xx?|x+o+)"
)
FILLER_TAIL = re.compile(rf"(?:[\s,;:!.~-]+{_FILLER})+\s*$", re.IGNORECASE)
_ONLY_FILLER = re.compile(rf"{_FILLER}(?:\s+{_FILLER})*", re.IGNORECASE)

_DATE_WORDS = (
    frozenset(MONTHS)
    | frozenset(WEEKDAYS)
    | {f"{d}s" for d in WEEKDAYS}
    | {"today", "tomorrow", "yesterday", "tonight", "weekend", "weekends"}
)


# Values are a few words; readers look no further than this into the rest of a sentence.
MAX_VALUE = 120


_TRAILING_JUNK = re.compile(rf"[\s{EMOJI}!?.,;:~]+$")
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)


def trim(value: str) -> str:
    """Without surrounding quotes, trailing punctuation, emoji and chat filler ("lol")."""
    value = value[:MAX_VALUE].strip().strip("\"'“”()[]")
    value = FILLER_TAIL.sub("", _TRAILING_JUNK.sub("", value))
    return value.strip(" ,;:-")


def strip_article(value: str) -> str:
    return _ARTICLE.sub("", value)


def cut_at_date(value: str) -> str:
    """ "Porto next Friday" -> "Porto": a date expression is never part of a name."""
    m = DATE_RE.search(value)
    return value[: m.start()] if m else value


def is_date_word(value: str) -> bool:
    return value.casefold() in _DATE_WORDS


def proper_value(value: str, lowercase_words: int = 1) -> str | None:
    """A place or organisation name, or None when it is not one. Lower case is allowed
    for up to `lowercase_words` words: "porto" in chat, "the city council" after "work for"."""
    value = strip_article(trim(cut_at_date(value)))
    tokens = value.split()
    while tokens and is_date_word(tokens[-1]):
        tokens.pop()
    value = " ".join(tokens)
    if not value or value.casefold() in STOP_VALUES or is_date_word(value):
        return None
    if value[0].islower() and len(tokens) > lowercase_words:
        return None
    return value


_LIST_SPLIT = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\s+and\s+|\s*&\s*|\s*/\s*)\s*", re.I)
_QUALIFIER = re.compile(
    r"^(?:(?:a\s+)?(?:bit|little|lot)\s+of|some|fluent|basic|conversational|good|decent|"
    r"broken|native|a\s+little|very|mildly|severely|really|also|both)\s+",
    re.IGNORECASE,
)


def list_values(text: str, max_words: int = 3) -> list[str]:
    """ "penicillin and shellfish, so..." -> ["penicillin", "shellfish"]."""
    text = re.split(r"[;.!?]|\s-\s|,\s*(?:so|but|because|which|since|as)\b", text[:MAX_VALUE])[0]
    values = []
    for part in _LIST_SPLIT.split(text):
        part = _QUALIFIER.sub("", trim(part))
        part = re.split(r"\s+(?:and|but|so|because|since|when|if|at|in|for|from)\b", part)[0]
        tokens = part.split()
        if tokens and _ONLY_FILLER.fullmatch(" ".join(tokens)):
            continue  # "peanuts, still": a trailing word, not another item
        if not tokens or len(tokens) > max_words:
            break
        values.append(" ".join(tokens))
    return values


_PRONOUNS = words(
    "me you him her it us them my your his its our their myself yourself itself this that "
    "these those"
)
# Words a liked or hated thing never starts with ("I love to...", "I hate not being...").
_NOT_THING_START = (
    STOP_VALUES
    | _PRONOUNS
    | words(
        "to how being is are was were be for with in on at by from around together lately "
        "again outside online well too more less so very really like as about doing going "
        "not never"
    )
)


def thing_value(text: str, max_words: int = 4) -> str | None:
    """What someone likes, hates or plays: a short noun phrase, not a pronoun."""
    text = re.split(
        r"[,;.!?()]|\s-\s|-\s|\s+(?:more\s+than|than|because|but|so|since|when|while|if|with|"
        r"every|twice|once|these\s+days|at\s+the\s+moment|lately|in\s+a|on\s+the)\b",
        text[:MAX_VALUE],
        maxsplit=1,
        flags=re.IGNORECASE,
    )[0]
    value = strip_article(trim(text))
    tokens = value.split()
    if not tokens or len(tokens) > max_words:
        return None
    if tokens[0].casefold() in _NOT_THING_START:
        return None
    # "making him happy", "having them around": about someone, not a taste.
    if any(w.casefold().strip("-") in _PRONOUNS for w in tokens) or QUOTE in value:
        return None
    if is_date_word(tokens[0]) or any(c.isdigit() for c in value):
        return None
    return value


_HEADS = words("head director vp chief")


def job_title(text: str) -> str | None:
    """The longest run of up to four words that ends in an occupation."""
    tokens = [w.strip("-") for w in re.findall(r"[\w-]+", text)[:5]]
    # "head of marketing": the occupation comes first.
    if len(tokens) >= 3 and tokens[0].casefold() in _HEADS and tokens[1].casefold() == "of":
        return " ".join(tokens[:3])
    for end in range(min(len(tokens), 4), 0, -1):
        if tokens[end - 1].casefold() in OCCUPATIONS:
            modifiers = [w.casefold() for w in tokens[: end - 1]]
            if any(w in NOT_JOB_MODIFIERS for w in modifiers):
                return None
            # "UX designer" and "ICU nurse", but not "Ana nurse".
            if any(w[0].isupper() and not w.isupper() for w in tokens[: end - 1]):
                return None
            return " ".join(tokens[:end])
    return None


def day_month(text: str) -> str | None:
    """The day and month (and year) at the start of `text`, as "3 May" or "3 May 1990"."""
    m = DATE_RE.match(text)
    if m is None:
        return None
    day, month, year = m.group("dm_d", "dm_m", "dm_y")
    if day is None:
        day, month, year = m.group("md_d", "md_m", "md_y")
    if day is None:
        return None
    number, month = int(day.rstrip("stndrh")), month_number(month)
    if month is None:
        return None
    try:  # 2000 was a leap year: "29 February" without a year is a birthday
        date(int(year) if year else 2000, month, number)
    except ValueError:
        return None
    return f"{number} {calendar.month_name[month]}" + (f" {year}" if year else "")


def diet_value(value: str) -> str | None:
    """ "Gluten free" -> "gluten-free": one spelling per diet, so values match."""
    return " ".join(value.casefold().split()).replace("gluten free", "gluten-free")


def language_value(value: str) -> str | None:
    """ "Portuguese at home" -> "Portuguese"; None when the first word is no language."""
    word = value.split()[0] if value.split() else ""
    return word.capitalize() if word.casefold() in LANGUAGES else None


def allergen_value(value: str) -> str | None:
    value = strip_article(trim(value))
    if not value or is_date_word(value) or value.casefold() in STOP_VALUES:
        return None
    return value


def address_value(value: str) -> str | None:
    """ "14 Elm Street, Springfield in case you need it" -> "14 Elm Street, Springfield"."""
    return trim(re.split(r"\s+(?:with|since|in\s+case|if|so|from)\b", value)[0]) or None


def hobby_value(value: str) -> str | None:
    return thing_value(value, max_words=2)

"""Other forms of a question's words that the keyword index cannot relate by itself.

The index stems with Porter, which joins "move", "moved" and "moving" but not "give"
and "gave", "fly" and "flight", or "30th" and "thirty". A question asks in the present
("what did Tiago give me for my 30th?") about a note written in the past ("Thirty
today. … Tiago gave me…"), so each such word is searched in its other forms too, and
the words of everyday paperwork in the other languages Second Self reads (a question
about the rent finds "Renda mensal" in a Portuguese lease).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.hits import query_terms

# English verbs whose past differs from what a stemmer makes of the base, as
# "base past participle" (a form may repeat). Common verbs of everyday accounts.
_IRREGULAR = """
be was were been; become became become; begin began begun; bite bit bitten;
blow blew blown; break broke broken; bring brought brought; build built built;
buy bought bought; catch caught caught; choose chose chosen; come came come;
cost cost cost; cut cut cut; dig dug dug; do did done; draw drew drawn;
dream dreamt dreamt; drink drank drunk; drive drove driven; eat ate eaten;
fall fell fallen; feed fed fed; feel felt felt; fight fought fought; find found found;
forget forgot forgotten; forgive forgave forgiven; freeze froze frozen;
get got gotten; give gave given; go went gone; grow grew grown; hang hung hung;
have had had; hear heard heard; hide hid hidden; hit hit hit; hold held held;
hurt hurt hurt; keep kept kept; know knew known; lay laid laid; lead led led;
learn learnt learnt; leave left left; lend lent lent; let let let; lie lay lain;
lose lost lost; make made made; mean meant meant; meet met met; pay paid paid;
put put put; quit quit quit; read read read; ride rode ridden; ring rang rung;
rise rose risen; run ran run; say said said; see saw seen; seek sought sought;
sell sold sold; send sent sent; set set set; shake shook shaken; shoot shot shot;
shut shut shut; sing sang sung; sink sank sunk; sit sat sat; sleep slept slept;
speak spoke spoken; spend spent spent; stand stood stood; steal stole stolen;
stick stuck stuck; strike struck struck; swim swam swum; take took taken;
teach taught taught; tear tore torn; tell told told; think thought thought;
throw threw thrown; understand understood understood; wake woke woken; wear wore worn;
win won won; write wrote written
"""

# Words a question and the memory answering it often put differently, as groups whose
# first word stands for the rest. Kept to plain synonyms: a looser word ("make" for
# "earn") would find more noise than answers.
_SYNONYMS = """
salary earn earns earned earning wage wages income salario salário ordenado salaire gehalt;
decline declined declining reject rejected refuse refused
"""
# The same thing in the languages the product reads (pt, es, fr, de), for the words of
# everyday paperwork: a question asked in English about a lease, a payslip or a
# booking written in another language. The embedding model is English-only, so the
# keyword search is the only bridge. Nouns with one meaning only: "contrato", "seguro"
# (also "sure") or "vol" would find more noise than answers. The salary's are with its
# synonyms above, "fly" with "flight", and "rent" with "lease", since the rent is
# written in the lease ("We signed the lease… 1,050 € a month") (a word belongs to one
# group).
_TRANSLATIONS = """
rent renda aluguer aluguel alquiler loyer miete lease arrendamento bail mietvertrag;
landlord landlady senhorio senhoria casero casera arrendador bailleur vermieter;
realtor imobiliaria imobiliária inmobiliaria immobiliere immobilière immobilienmakler makler;
deposit caucao caução fianza kaution;
duration duracao duração duracion duración duree durée dauer laufzeit;
insurance versicherung;
dentist dentista dentiste zahnarzt;
allergy allergies alergia alergias allergie;
birthday aniversario aniversário cumpleanos cumpleaños anniversaire geburtstag;
wedding casamento boda mariage hochzeit;
flight flights fly flew flown voo voos vuelo vuelos flug;
street rua calle strasse straße
"""
# Phrases that mean one word of a group: "the job I turned down" was "declined".
_PHRASES = {
    "turn down": "decline", "turned down": "decline", "turning down": "decline",
    "estate agency": "realtor", "estate agent": "realtor", "real estate": "realtor",
    "letting agency": "realtor", "how long is": "duration",
}  # fmt: skip

_UNITS = str.split(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
)
_TENS = str.split("_ _ twenty thirty forty fifty sixty seventy eighty ninety")
_ORDINAL_UNITS = str.split(
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh "
    "twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"
)


def _groups(table: str) -> dict[str, list[str]]:
    """Each word of a "word word; word word" table -> its group, first word first."""
    groups: dict[str, list[str]] = {}
    for entry in table.split(";"):
        words = list(dict.fromkeys(entry.split()))
        for word in words:
            groups.setdefault(word, words)
    return groups


def _number_words(n: int) -> tuple[str, str]:
    """(cardinal, ordinal) of 0 <= n < 100 in English words, single words only for
    the tens ("thirty", "thirtieth"), hyphenated otherwise ("thirty-one")."""
    if n < 20:
        return _UNITS[n], _ORDINAL_UNITS[n]
    tens, unit = divmod(n, 10)
    if unit == 0:
        return _TENS[tens], _TENS[tens][:-1] + "ieth"
    return f"{_TENS[tens]}-{_UNITS[unit]}", f"{_TENS[tens]}-{_ORDINAL_UNITS[unit]}"


def _suffix(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _number_forms() -> dict[str, set[str]]:
    """ "30", "30th", "thirty" and "thirtieth" as one number: ages, anniversaries. From
    3 up: "first" and "second" mostly mean something else ("first day", "a second")."""
    forms: dict[str, set[str]] = {}
    for n in range(3, 100):
        cardinal, ordinal = _number_words(n)
        words = {str(n), f"{n}{_suffix(n)}", cardinal, ordinal}
        for word in words:
            forms.setdefault(word, set()).update(words - {word})
    return forms


_GROUPS = _groups(_IRREGULAR + ";" + _SYNONYMS + ";" + _TRANSLATIONS)
_NUMBERS = _number_forms()


def other_forms(terms: Iterable[str]) -> list[str]:
    """The other forms of `terms` (lower-cased words): irregular verb forms, plain
    synonyms ("earn", "salary"), and the
    words and ordinals of numbers from 3 to 99 written in digits or words ("30th" ->
    "30", "thirty", "thirtieth"), except bare digits, which also count things, days and
    years ("2 April" must not search "second")."""
    given = list(terms)
    out: list[str] = []
    for term in given:
        found = set(_GROUPS.get(term, ()))
        if not term.isdigit():
            found |= _NUMBERS.get(term, set())
        out += sorted(found - set(given) - set(out))
    return out


def _canonical_forms() -> dict[str, str]:
    """Each irregular form or synonym -> its group's first word ("gave" -> "give"),
    each number word -> its digits ("thirtieth" -> "30")."""
    out = {word: group[0] for word, group in _GROUPS.items() if word != group[0]}
    for n in range(3, 100):
        cardinal, ordinal = _number_words(n)
        out.update({cardinal: str(n), ordinal: str(n), f"{n}{_suffix(n)}": str(n)})
    return out


_CANONICAL = _canonical_forms()


def canonical(word: str) -> str:
    """One form for all of a word's forms that `other_forms` joins (a lower-cased
    word): for comparing a question's words with a sentence's."""
    return _CANONICAL.get(word, word)


_PHRASE = re.compile(r"\b(?:" + "|".join(map(re.escape, _PHRASES)) + r")\b", re.IGNORECASE)


def rephrased(text: str) -> str:
    """`text` with each phrase of one word's meaning replaced by it ("the job I turned
    down" -> "the job I decline"), for the words a search compares."""
    return _PHRASE.sub(lambda m: _PHRASES[m.group().casefold()], text)


def also_searched(text: str) -> list[str]:
    """The words a keyword search of `text` adds: what its phrases mean and the other
    forms of its words (`other_forms`), none it already has."""
    given = query_terms(text)
    meant = [t for t in query_terms(rephrased(text)) if t not in given]
    return meant + [f for f in other_forms(given + meant) if f not in meant]

"""Find and redact secrets (cards, IBANs, passwords, codes, keys, ID numbers) in free text.

Reflection redacts with `redact()` before any text reaches a language model, and ingest
labels each episode with `sensitivity()`. Precision matters as much as recall: a memory
full of false "secrets" is useless, so shapes are confirmed by a check digit or by a
nearby cue word, never by shape alone when the shape is common.

Covered (finding kind: what is found; the span is the secret value, never the cue):

- ``card``: 13-19 digits, contiguous or grouped by single spaces or dashes as 4-4-4-4(-1..3),
  4-6-5 (Amex) or 4-6-4 (Diners), with an issuer prefix and length of Visa, Mastercard
  (51-55, 2221-2720), Amex, Discover, Maestro, JCB, Diners or UnionPay, passing Luhn.
- ``iban``: a country code from `checksums.IBAN_LENGTHS` (SEPA, GB, CH, NO and the rest
  of the ISO 13616 registry), two check digits and the BBAN, compact or with single
  spaces, the country's exact length, mod-97 == 1. Upper case only.
- ``password``: the value after a cue (password, passwd, pwd, pw, passphrase, senha,
  palavra-passe, Passwort, Kennwort, contraseña, clave, mot de passe, mdp; for networks
  wifi key/pass, WPA key, WPA2 PSK, network key, WLAN-Schlüssel, chave wifi, clé wifi),
  optionally "for <thing>", then ``:``/``=`` or "is"/"é"/"ist"/"es"/"est". After a bare
  space ("pw hunter2") only a password-shaped value counts: six or more characters with
  letters and digits (not a measure such as "2.4GHz"), or letters, symbols and a capital,
  or eight digits. A natural-language "is" needs a value that looks like a password or
  ends the clause, so "my password is written on the fridge" is not a finding. Quoted
  values are found without their quotes. "forgot my password", "password reset" have no
  value: no finding. Account and network lines give their password too, and keep the
  name: "router login: admin / Tr0ub4dor&3", "user admin pw hunter2", "username: x
  password: y", "the wifi: Home-5G / pass Gr33nTea!", "utilizador: admin / senha: ...".
  After a network cue with no password cue ("wifi: A / B"), B needs a password's shape;
  "login: email / password" names a form's fields and is not a finding.
- ``pin``: 4-8 digits after a PIN cue (PIN, PIN code/number, passcode, door/gate/alarm/
  garage/safe/keypad/lock/entry code, digicode, Türcode, código da porta, código de la
  puerta, code de la porte, code PIN, codice PIN...), optionally "for <thing>", then
  ``:``/``=``, "is"/"é"/"ist" or a space.
- ``otp``: 4-8 digits (or 3+3 split by a dash/space) after a qualified code cue
  (verification/security/login/one-time/2FA/MFA/SMS code, OTP, "your code", código de
  verificação, Bestätigungscode, code de vérification...), or before "is your ... code".
- ``api_key``: AWS access key ids (AKIA/ASIA), AWS secret keys after
  ``aws_secret_access_key``, GitHub (ghp_ gho_ ghu_ ghs_ ghr_ github_pat_), Slack
  (xoxb- xoxp- xoxa- xoxr-), Stripe secret and restricted keys (sk_/rk_, live and test;
  ``pk_`` publishable keys are public by design and not found), OpenAI (sk-, sk-proj-),
  Anthropic (sk-ant-), Google (AIza + 35), JWTs (eyJ...three base64url parts), and
  ``api_key``/``token``/``secret``/``Bearer`` assignments whose value has >= 20 characters,
  two or more character classes and Shannon entropy >= 3.5 bits per character.
- ``private_key``: a PEM ``-----BEGIN ... PRIVATE KEY-----`` (RSA, EC, DSA, OPENSSH,
  ENCRYPTED, PGP PRIVATE KEY BLOCK) through its matching END line; with no END line,
  through the following lines that look like key body, so a truncated paste is covered.
- ``gov_id``: Portuguese NIF/NIPC (mod-11) after "NIF"/"contribuinte"/"NIPC"; US SSN
  (valid area/group/serial ranges) after "SSN"/"social security"; UK NINO anywhere (valid
  prefix letters, A-D suffix); passport numbers (6-9 upper-case letters/digits with a
  digit) after passport/passaporte/pasaporte/passeport/Reisepass.

Not covered: un-cued passwords, codes, SSNs and passports (an e-mail address and a
password with no account or password word, "ana@example.com / Pipoca2023");
alphanumeric door codes ("24B7"); secrets split across lines;
lower-case IBANs; generic high-entropy strings with no key-like prefix or cue; other
countries' ID numbers (DNI, Steuer-ID, Aadhaar...); cloud keys of other vendors; card
numbers grouped in unusual shapes (e.g. 4-4-4-4 with mixed separators).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from policies.checksums import (
    IBAN_LENGTHS,
    card_issuer,
    iban_ok,
    luhn_ok,
    nif_ok,
    nino_ok,
    shannon_entropy,
    ssn_ok,
)

KINDS = ("card", "iban", "password", "pin", "otp", "api_key", "private_key", "gov_id")
PLACEHOLDERS = {kind: f"[{kind.upper()}]" for kind in KINDS}
# When two findings overlap, the longer wins; on equal length, the earlier kind here.
_PRIORITY = {
    k: i
    for i, k in enumerate(
        ("private_key", "api_key", "iban", "card", "gov_id", "password", "pin", "otp")
    )
}


@dataclass(frozen=True)
class Finding:
    kind: str  # one of KINDS
    start: int  # character offsets in the text
    end: int


# --- patterns (compiled once, on first use; every repetition is bounded) ----------------

_D = r"(?<![\w-])"  # left edge: not inside a word or a dashed number
_E = r"(?![\w]|-\w|[.,]\d)"  # right edge
_CARD = re.compile(
    rf"{_D}(?:\d{{13,19}}|\d{{4}}([ -])\d{{4}}\1\d{{4}}\1\d{{4}}(?:\1\d{{1,3}})?"
    rf"|\d{{4}}([ -])\d{{6}}\2\d{{4,5}}){_E}"
)
_IBAN = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2})(\d{2})((?: ?[A-Z0-9]){10,32})")

_VERB = r"(?:is|é|ist|es|est|era|was|lautet)"
_ASSIGN = (
    rf"\s{{0,3}}[:=]\s{{0,3}}|\s{{1,3}}{_VERB}\s{{1,3}}(?:now\s|still\s)?"
    r"|\s{1,3}(?:still|now)\s{1,3}"  # "is my password still hunter2?": verb before it
)
_THING = (
    r"(?:\s(?:for|to|of|on|at|do|da|de|del|du|für|zum|zur|para|pour)\s"
    r"(?:the\s|my\s|o\s|a\s|mein\s|la\s|le\s)?[\w.@'-]{1,30}"
    rf"(?:\s(?!{_VERB}\s)[\w.@'-]{{1,20}})?)?"
)
_VALUE = (
    r"(?P<val>\"[^\"\n]{1,80}\"|'[^'\n]{1,80}'|“[^”\n]{1,80}”|«[^»\n]{1,80}»|[^\s\"'“”«»<>]{1,80})"
)
# Words that name a password (a wifi key is the password of a network).
_PASSWORD_CUE = (
    r"(?:(?:wi-?fi|wlan)-)?pass(?:word|wort|wd|phrase)|pwd|pw|senha|palavra-passe|kennwort"
    r"|contraseña|contrasena|clave|mot\sde\spasse|mdp|wi-?fi\s(?:key|pass)|wpa2?\s(?:key|psk)"
    r"|network\skey|netzwerkschlüssel|wlan[-\s](?:schlüssel|key)|chave\s(?:d[oa]\s)?wi-?fi"
    r"|clé\s(?:wi-?fi|wpa|réseau)"
    r"|pass(?=\s(?:for|to|of)\s(?:the\s|my\s|our\s)?(?:guest\s)?(?:wi-?fi|network|router|wlan"
    r"|internet)\b)"
)
_PASSWORD = re.compile(
    rf"(?i)(?<![\w-])(?:{_PASSWORD_CUE})(?![\w-])(?P<mid>{_THING})(?P<sep>{_ASSIGN}|\s{{1,3}})"
    + _VALUE
)
# Words that name a numeric code which opens something: a card, a phone, a door, an alarm.
_PIN_CUE = (
    r"pin(?:[\s-]?(?:code|number|nummer|no\.?))?|pass\s?code|code\spin|codice\spin|código\spin"
    r"|(?:door|gate|alarm|garage|safe|keypad|lock|locker|entry|building)\s(?:code|pin)|digicode"
    r"|code\s(?:for|to)\s(?:the\s|my\s|our\s)?(?:front\s)?(?:gate|door|alarm|safe|garage"
    r"|building|lock|locker|house|flat|apartment)|puk(?:[\s-]?code)?"
    r"|t(?:ü|ue)r-?code|tor-?code|alarm-?code|codice\s(?:della\sporta|del\scancello)"
    r"|código\s(?:da\sporta|do\sport[ãa]o|do\salarme|do\scofre|da\sgaragem|de\sla\spuerta"
    r"|de\sla\salarma|del\sportal|de\s(?:acesso|entrada)\s(?:ao|à|a|do|da)\s(?:prédio|predio"
    r"|edifício|edificio|casa|garagem|porta|portão|portao))"
    r"|code\s(?:de\sla\sporte|de\sl['’]alarme|d['’]entrée)"
)
# A lock's combination: two-digit numbers in a row ("combination 2-14-33").
_COMBINATION = re.compile(
    r"(?i)(?<![\w-])(?:combination|combo|kombination|combinação|combinación|combinaison)"
    r"(?:\s(?:is|é|es|est|ist))?\s{0,3}:?\s{0,3}(?P<val>\d{1,2}(?:[-–/ ]\d{1,2}){2,4})(?![\w-]|/\d)"
)
_PIN = re.compile(
    rf"(?i)(?<![\w-])(?:{_PIN_CUE})(?![\w-])(?:{_THING})(?:{_ASSIGN}|\s{{1,3}})"
    rf"(?P<val>\d{{4,8}}){_E}"
)
# An account or a network, a name, then its password: "router login: admin / Tr0ub4dor&3",
# "user admin pw hunter2", "the wifi: Home-5G / pass Gr33nTea!". The name stays.
_ACCOUNT_CUE = (
    r"log-?in|sign-?in|user(?:\s?name)?|utilizador|usu[aá]rio|benutzer(?:name)?|identifiant"
    r"|account|conta|cuenta|creds|credentials|credenciais|wi-?fi|wlan|network|rede|ssid"
)
_PAIR_PASS_CUE = rf"(?:{_PASSWORD_CUE}|pass|key|chave|clé|schlüssel)"
_CREDENTIALS = re.compile(
    rf"(?i)(?<![\w-])(?P<cue>{_ACCOUNT_CUE})(?![\w-]){_THING}"
    r"(?:\s{0,3}[:=]\s{0,3}|\s{1,3}(?:is|é|es|est|ist)\s{1,3}|\s{1,3})"
    r"(?:(?:name|ssid|network|rede|nome)\s{1,3})?(?P<name>[^\s/,;:\"'<>]{1,64})"
    rf"(?:\s{{0,3}}/\s{{0,3}}(?:(?P<slashcue>{_PAIR_PASS_CUE})(?![\w-])(?:\s{{0,3}}[:=]\s{{0,3}}"
    rf"|\s{{1,3}}))?|[,;]?\s{{1,3}}(?P<cue2>{_PAIR_PASS_CUE})(?![\w-])(?P<sep>\s{{0,3}}[:=]"
    rf"\s{{0,3}}|\s{{1,3}}(?:is\s{{1,3}})?))" + _VALUE
)
# A well-known account name or an e-mail address, a slash, a password-shaped value:
# "Router: admin / P@ssw0rd!", "Spotify: ana@example.com / Musica2024!".
_ACCOUNT_PAIR = re.compile(
    r"(?i)(?<![\w.@+-])(?:admin(?:istrator)?|root|guest|ubnt|[\w.+-]{1,64}@[\w-]{1,63}"
    r"(?:\.[\w-]{1,63})+)\s{0,3}/\s{0,3}" + _VALUE
)
_MEASURE = re.compile(r"\d{1,4}(?:[.,]\d{1,3})?[a-zA-Z]{1,4}")  # 2.4GHz, 100Mbps, 512GB
_NETWORK_CUES = frozenset(("wifi", "wi-fi", "wlan", "network", "rede", "ssid"))
# A name in a credentials line that is the label of a form field, not an account:
# "login: email / password" describes a form.
_FIELD_LABELS = frozenset((
    "email", "e-mail", "mail", "user", "username", "name", "login", "password", "pass", "pw",
    "pwd", "id", "number", "phone",
))  # fmt: skip
_OTP_CUE = (
    r"(?:verification|security|login|log-in|sign-in|signin|one-time|one\stime|confirmation"
    r"|authentication|auth|access|2fa|mfa|sms|otp|backup|your|the)\s(?:code|pin)"
    r"|otp|2fa|one-time\spassword"
    r"|código(?:\sde\s(?:verificação|verificacao|verificación|acesso|acceso|confirmação"
    r"|confirmación|seguridad|segurança|autenticação))?"
    r"|bestätigungscode|sicherheitscode|verifizierungscode|einmalcode"
    r"|code\sde\s(?:vérification|verification|confirmation|sécurité)"
)
_OTP = re.compile(
    rf"(?i)(?<![\w-])(?:{_OTP_CUE})(?![\w-])(?:{_ASSIGN}|\s{{1,3}})"
    rf"(?P<val>\d{{3}}[- ]\d{{3}}|\d{{4,8}}){_E}"
)
_OTP_BEFORE = re.compile(
    r"(?i)(?<![\w-])(?P<val>\d{4,8})\s{1,3}(?:is|é|es|est|ist)\s(?:your|o\sseu|seu|tu|votre|ihr)"
    r"\s(?:[\w-]{1,20}\s){0,3}(?:code|otp|pin|passcode|código|tan)\b"
)
_API_KEYS = re.compile(
    r"(?<![A-Za-z0-9])(?:(?:AKIA|ASIA)[A-Z0-9]{16}"
    r"|gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}"
    r"|xox[bpar]-[A-Za-z0-9-]{10,255}"
    r"|[sr]k_(?:live|test)_[A-Za-z0-9]{16,255}"
    r"|sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,255}"
    r"|AIza[0-9A-Za-z_-]{35}"
    r"|eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,2048})"
    r"(?![A-Za-z0-9_-])"
)
_AWS_SECRET = re.compile(
    r"(?i)aws_?secret(?:_access)?_?key[\"']?\s{0,3}[:=]\s{0,3}[\"']?(?P<val>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
)
_GENERIC_KEY = re.compile(
    r"(?i)(?<![\w-])(?:api[_-]?key|apikey|api[_-]?token|access[_-]?token|auth[_-]?token"
    r"|refresh[_-]?token|secret[_-]?key|client[_-]?secret|token|secret|bearer)[\"']?"
    r"(?:\s{0,3}[:=]\s{0,3}(?:bearer\s)?|\s{1,3}(?:is\s)?)[\"']?(?P<val>[A-Za-z0-9_\-./+=~]{20,512})"
)
_PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY(?: BLOCK)?)-----")
_PEM_BODY_LINE = re.compile(r"[A-Za-z0-9+/=]{0,200}|[A-Za-z-]{1,40}: [^\n]{0,200}|")
_NIF = re.compile(
    r"(?i)(?<![\w-])(?:nif|nipc|contribuinte|n\.?º\s?fiscal)(?![\w-])[^\d\n]{0,25}?"
    r"(?:PT\s?)?(?P<val>\d{9}|\d{3} \d{3} \d{3})(?![\w-])"
)
_SSN = re.compile(
    r"(?i)(?<![\w-])(?:ssn|social\ssecurity)(?![\w-])[^\d\n]{0,25}?"
    r"(?P<val>(?P<a>\d{3})(?P<s>[- ]?)(?P<g>\d{2})(?P=s)(?P<n>\d{4}))(?![\w-])"
)
_NINO = re.compile(r"(?<![\w-])(?P<p>[A-Z]{2}) ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![\w-])")
_PASSPORT = re.compile(
    r"(?i)(?<![\w-])(?:passport|passaporte|pasaporte|passeport|reisepass)(?:nummer)?"
    r"(?:\s(?:no\.?|nr\.?|n\.?º|n°|number|num\.?|número|numéro|#))?"
    r"(?:\s{0,3}[:#]\s{0,3}|\s(?:is|é|es|est|ist)\s|\s)(?-i:(?P<val>[A-Z0-9]{6,9}))(?![\w-])"
)

# Values that follow a password cue but are words about the password, not the password.
_NOT_A_PASSWORD_WORDS = """the a an my your his her our their its this that same new old it
    not too very
    wrong incorrect invalid correct required needed missing empty blank none null n/a na
    unknown weak strong secure expired reset changed updated saved stored written here
    there below above attached hidden protected manager managers policy policies field
    hint hints length change changes sent ok okay set valid leaked compromised in on at
    for to of and or with from as be been was is are will should must can never always
    also just still only now too long short same-as-before forgotten forgot lost
    obrigatória alterada errada inválida falsch geändert vergessen incorrecta olvidada
    oublié incorrect ***** ****** ******** redacted [redacted] <redacted> xxx xxxx
    ver see check ask no sim yes ja sí oui siehe voir véase pending tbd tba unchanged
    default usual"""
_NOT_A_PASSWORD = frozenset(_NOT_A_PASSWORD_WORDS.split())


def _is_placeholder(value: str) -> bool:
    return re.fullmatch(r"(?:\[[A-Z_]+\])+", value) is not None


def _cards(text: str) -> Iterator[Finding]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group())
        if luhn_ok(digits) and card_issuer(digits):
            yield Finding("card", m.start(), m.end())


def _ibans(text: str) -> Iterator[Finding]:
    for m in _IBAN.finditer(text):
        length = IBAN_LENGTHS.get(m.group(1))
        if length is None:
            continue
        need, end = length - 4, m.start(3)
        tail = m.group(3)
        taken = 0
        for offset, char in enumerate(tail):
            if char != " ":
                taken += 1
            if taken == need:
                end = m.start(3) + offset + 1
                break
        if taken < need or (end < len(text) and text[end].isalnum()):
            continue
        compact = text[m.start() : end].replace(" ", "")
        if iban_ok(compact):
            yield Finding("iban", m.start(), end)


def _trim_value(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop quotes around a value and sentence punctuation after it."""
    if end - start >= 2 and text[start] in "\"'“«":
        return start + 1, end - 1
    while end > start and text[end - 1] in ".,;:)":
        end -= 1
    return start, end


def _looks_like_password(value: str, text: str, end: int) -> bool:
    """After a natural-language "is": a password shape, or the last word of the clause."""
    if not value.isalpha() or not value.islower() or any(c.isupper() for c in value[1:]):
        return True
    rest = text[end : end + 2]
    return rest == "" or rest[0] in ".!?;,\n" or rest in (" (", " -")


def _password_shaped(value: str) -> bool:
    """A value that reads as a password with no ":" or "is" before it ("pw hunter2"):
    letters and digits, or letters and symbols, or eight digits (a wifi key); not a word."""
    if len(value) < 6 or not value[0].isalnum() or _MEASURE.fullmatch(value):
        return False
    letters = any(c.isalpha() for c in value)
    digits = any(c.isdigit() for c in value)
    symbols = any(c in "!#$%&*@^~_+=?" for c in value)
    upper_inside = any(c.isupper() for c in value[1:])
    return (letters and (digits or (symbols and upper_inside))) or (
        value.isdigit() and len(value) >= 8
    )


def _not_a_value(value: str) -> bool:
    """Words about a password ("reset", "manager"), placeholders, and masks ("****")."""
    return value.lower() in _NOT_A_PASSWORD or _is_placeholder(value) or set(value) <= set("*•x.")


def _password_value(m: re.Match[str], text: str, sep: str) -> tuple[int, int] | None:
    """The span of the password a cue introduces, or None when the words after it are not one.

    `sep` is what stands between the cue and the value, stripped: ":" or "=", a verb
    ("is", "é"...), "still"/"now", or "" (a space: only a password-shaped value counts).
    """
    start, end = _trim_value(text, m.start("val"), m.end("val"))
    value = text[start:end]
    quoted = start != m.start("val")
    if quoted:
        return (start, end) if not _not_a_value(value) else None
    if len(value) < 3 or _not_a_value(value) or m.group("val").endswith(":"):
        return None  # "login: 09:00 / logout: 17:30": a label, not a value
    if not sep:
        return (start, end) if _password_shaped(value) else None
    if sep in ("still", "now") and value.isalpha() and value.islower():
        return None  # "the password still works" has no verb to assign with: shape only
    if sep not in (":", "=") and not _looks_like_password(value, text, end):
        return None
    return start, end


def _passwords(text: str) -> Iterator[Finding]:
    for m in _PASSWORD.finditer(text):
        sep = m.group("sep")
        if not sep.strip() and (m.group("mid") or "\n" in sep):
            continue  # a bare space joins a cue to its value only on one line, with no "for X"
        span = _password_value(m, text, sep.strip())
        if span is not None:
            yield Finding("password", *span)


def _cued_values(kind: str, patterns: tuple[re.Pattern[str], ...], text: str) -> Iterator[Finding]:
    """The `val` group of every match: the cue words around it stay."""
    for pattern in patterns:
        for m in pattern.finditer(text):
            yield Finding(kind, m.start("val"), m.end("val"))


def _pins(text: str) -> Iterator[Finding]:
    # Each pattern scans the whole text; a combination's cue is rare, so look for it first.
    combination = (_COMBINATION,) if "omb" in text.lower() else ()
    return _cued_values("pin", (_PIN, *combination), text)


def _credentials(text: str) -> Iterator[Finding]:
    """The password of an account or network line; its name stays (it is not a secret)."""
    for m in _CREDENTIALS.finditer(text):
        if m.group("name").lower() in _FIELD_LABELS:
            continue
        if m.group("cue2") is not None:
            sep = m.group("sep").strip()
        elif m.group("slashcue") is not None or m.group("cue").lower() not in _NETWORK_CUES:
            sep = ":"  # "login: admin / pass": the slash assigns
        else:
            sep = ""  # "wifi: 5GHz / 2.4GHz" needs a password's shape
        span = _password_value(m, text, sep)
        if span is not None:
            yield Finding("password", *span)
    for m in _ACCOUNT_PAIR.finditer(text) if "/" in text else ():
        span = _password_value(m, text, "")  # no password word: a password's shape only
        if span is not None:
            yield Finding("password", *span)


def _otps(text: str) -> Iterator[Finding]:
    return _cued_values("otp", (_OTP, _OTP_BEFORE), text)


def _api_keys(text: str) -> Iterator[Finding]:
    for m in _API_KEYS.finditer(text):
        yield Finding("api_key", m.start(), m.end())
    for m in _AWS_SECRET.finditer(text):
        yield Finding("api_key", m.start("val"), m.end("val"))
    for m in _GENERIC_KEY.finditer(text):
        start, end = m.start("val"), m.end("val")
        while end > start and text[end - 1] in ".,":
            end -= 1
        value = text[start:end]
        classes = sum((any(c.islower() for c in value), any(c.isupper() for c in value))) + any(
            c.isdigit() for c in value
        )
        if len(value) >= 20 and classes >= 2 and shannon_entropy(value) >= 3.5:
            yield Finding("api_key", start, end)


def _private_keys(text: str) -> Iterator[Finding]:
    position = 0
    next_footer: dict[str, int] = {}  # label -> next END offset (-1: none), so this stays linear
    while (m := _PEM_BEGIN.search(text, position)) is not None:
        footer = f"-----END {m.group(1)}-----"
        end_at = next_footer.get(footer, m.end())
        if 0 <= end_at < m.end():
            end_at = m.end()
        if end_at >= m.end():
            end_at = text.find(footer, end_at)
            next_footer[footer] = end_at
        if end_at >= 0:
            end = end_at + len(footer)
        else:  # truncated paste: take the following lines that look like key body
            end = scan = m.end()
            while scan < len(text) and text[scan] == "\n":
                line_end = text.find("\n", scan + 1)
                line_end = len(text) if line_end < 0 else line_end
                if not _PEM_BODY_LINE.fullmatch(text, scan + 1, line_end):
                    break
                if line_end > scan + 1:  # a blank line may sit inside, never at the end
                    end = line_end
                scan = line_end
        yield Finding("private_key", m.start(), end)
        position = end


def _gov_ids(text: str) -> Iterator[Finding]:
    for m in _NIF.finditer(text):
        if nif_ok(m.group("val").replace(" ", "")):
            yield Finding("gov_id", m.start("val"), m.end("val"))
    for m in _SSN.finditer(text):
        if ssn_ok(m.group("a"), m.group("g"), m.group("n")):
            yield Finding("gov_id", m.start("val"), m.end("val"))
    for m in _NINO.finditer(text):
        if nino_ok(m.group("p")):
            yield Finding("gov_id", m.start(), m.end())
    for m in _PASSPORT.finditer(text):
        if any(c.isdigit() for c in m.group("val")):
            yield Finding("gov_id", m.start("val"), m.end("val"))


_DETECTORS: tuple[Callable[[str], Iterator[Finding]], ...] = (
    _private_keys,
    _api_keys,
    _ibans,
    _cards,
    _gov_ids,
    _passwords,
    _pins,
    _credentials,
    _otps,
)


def find_secrets(text: str) -> list[Finding]:
    """Every secret in `text`, non-overlapping and sorted by start offset."""
    candidates = [f for detect in _DETECTORS for f in detect(text) if f.end > f.start]
    candidates.sort(key=lambda f: (f.start - f.end, _PRIORITY[f.kind], f.start))
    taken: list[Finding] = []
    occupied: list[tuple[int, int]] = []  # sorted, disjoint spans already accepted
    for finding in candidates:
        i = bisect.bisect_left(occupied, (finding.start, finding.start))
        if i > 0 and occupied[i - 1][1] > finding.start:
            continue
        if i < len(occupied) and occupied[i][0] < finding.end:
            continue
        occupied.insert(i, (finding.start, finding.end))
        taken.append(finding)
    return sorted(taken, key=lambda f: f.start)


def _redact_once(text: str, findings: list[Finding]) -> str:
    parts: list[str] = []
    position = 0
    for finding in findings:
        parts.append(text[position : finding.start])
        parts.append(PLACEHOLDERS[finding.kind])
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def redact(text: str) -> str:
    """`text` with each secret replaced by a typed placeholder such as "[CARD]".

    Replacing can make new text adjacent (a cue next to a placeholder), so this repeats
    until nothing more is found; the result is a fixed point, so redact is idempotent.
    """
    for _ in range(8):
        findings = find_secrets(text)
        if not findings:
            return text
        text = _redact_once(text, findings)
    return text


def sensitivity(text: str) -> str:
    """ "secret" when `text` holds any secret, else "normal" (ingest's episode label)."""
    return "secret" if find_secrets(text) else "normal"

"""What a form field asks for, decided so that a wrong guess is rare: a wrong fill is
worse than an empty field.

In order: a valid `autocomplete` token (the WHATWG grammar, parsed here); else the
field's words (label, then name, id, placeholder) against one table of rules in five
languages, most specific first, with the words that must not match; else its input
type. `Classified.rule` says which of these decided and why. A field no rule has
anything to say about gets `rule == UNDECIDED`: that, and only that, is where
`classify_form` may try a looser guess, its label's embedding similarity to each
type's descriptions (`similar.py`), when given an encoder; a rule that said "never
fill" has decided.

`classify_form` adds what one field cannot know alone: a bare "Name" beside a
"Vorname" field is the family name, a bare "Nombre" beside "Apellidos" the given one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.autofill.fields import FormField

if TYPE_CHECKING:
    from assistant.autofill.similar import Encoder

UNDECIDED = "none"  # the rule of a field nothing had anything to say about


@dataclass(frozen=True)
class Classified:
    type: str | None  # a key of `fields.FIELD_TYPES`, or None
    rule: str  # why: "autocomplete: email", "label: 'E-mail' (email, pt)", "none"


# ---------------------------------------------------------------- autocomplete

# Every field name of the WHATWG autocomplete grammar -> the type it asks for; None for
# the valid ones autofill has nothing for (a region, a title, a part of a phone number).
_TOKENS: dict[str, str | None] = {
    "name": "name", "given-name": "given_name", "family-name": "family_name",
    "additional-name": None, "honorific-prefix": None, "honorific-suffix": None,
    "nickname": None, "username": "username", "new-password": "password",
    "current-password": "password", "one-time-code": None,
    "organization": "employer", "organization-title": "job_title",
    "street-address": "address", "address-line1": "address", "address-line2": None,
    "address-line3": None, "address-level4": None, "address-level3": None,
    "address-level2": "city", "address-level1": None, "country": "country",
    "country-name": "country", "postal-code": "postal_code",
    "cc-name": "card_name", "cc-given-name": None, "cc-additional-name": None,
    "cc-family-name": None, "cc-number": "card_number", "cc-exp": "card_expiry",
    "cc-exp-month": "card_expiry", "cc-exp-year": "card_expiry", "cc-csc": "card_cvc",
    "cc-type": None, "transaction-currency": None, "transaction-amount": None,
    "language": None, "bday": "birthday", "bday-day": None, "bday-month": None,
    "bday-year": None, "sex": None, "url": None, "photo": None,
    # Contact field names: the only ones a home, work, mobile, fax or pager token may precede.
    "tel": "phone", "tel-national": "phone", "tel-local": "phone",
    "tel-country-code": None, "tel-area-code": None, "tel-local-prefix": None,
    "tel-local-suffix": None, "tel-extension": None, "email": "email", "impp": None,
}  # fmt: skip
_CONTACT = frozenset(t for t in _TOKENS if t.startswith("tel") or t in ("email", "impp"))
_CONTACT_KINDS = frozenset({"home", "work", "mobile", "fax", "pager"})
_PASSWORD_TOKENS = frozenset({"new-password", "current-password"})


def from_autocomplete(value: str) -> tuple[str | None, bool]:
    """(the type an `autocomplete` attribute asks for, whether it is a valid token).

    Grammar: [section-*] [shipping|billing] [home|work|mobile|fax|pager, before a
    contact field name only] field-name [webauthn]. "on", "off" and anything else
    are not valid: the caller looks elsewhere.
    """
    tokens = value.casefold().split()
    if tokens and tokens[-1] == "webauthn":
        tokens.pop()
    if tokens and tokens[0].startswith("section-") and len(tokens[0]) > len("section-"):
        tokens.pop(0)
    if tokens and tokens[0] in ("shipping", "billing"):
        tokens.pop(0)
    contact = bool(tokens) and tokens[0] in _CONTACT_KINDS
    if contact:
        tokens.pop(0)
    if len(tokens) != 1 or tokens[0] not in _TOKENS:
        return None, False
    if contact and tokens[0] not in _CONTACT:
        return None, False
    return _TOKENS[tokens[0]], True


# ---------------------------------------------------------------- words


@dataclass(frozen=True)
class Rule:
    """Words that say what a field asks for (`type`), or, with type None, that it asks
    for nothing autofill gives (`why`). `anywhere` rules are looked for in all of a
    field's texts before any other rule: they say the field is about someone else or
    something other than what we hold, whatever its label says."""

    type: str | None
    langs: str  # "en", "de fr", "*": where the words come from, shown in the rule
    words: str  # a regex over `words_of(text)`
    unless: str | None = None  # a regex that, found too, makes this rule not apply
    why: str = ""  # for type None: what the field asks for instead
    anywhere: bool = False


# What the `unless` of several rules share.
_NOT_CARD = (r"gift|loyal|member|fidel|club|saude|sanitari|health|insurance|identi|cidadao"
             r"|vitale|boarding|embarque|embarquement|library|bibliot|student|estudant"
             r"|estudiant|etudiant|transport")  # fmt: skip
_PHONE_PART = r"code|prefix|prefixo|prefijo|vorwahl|indicatif|extension|\bext\b|durchwahl|fax"
_DOC = (r"passport|passaporte|reisepass|passeport|pasaporte|document|ausweis|identit"
        r"|cidadao|licen[cs]e|fuhrerschein|permis|carnet|\bvisa\b|\bvisto\b")  # fmt: skip
_DOC_DATE = r"expir|issu|valid|ablauf|gultig|delivr|emis|caduc|ausstell|venc"

# Most specific first: the first rule that matches a text decides.
RULES: tuple[Rule, ...] = (
    # -- About someone else, or a value that is no longer yours: never ours to give.
    Rule(None, "en", r"emergency|next of kin|recipient|beneficiary|payee|countersignator"
         r"|referee|guarantor|\btheir\b|spouse|partner|mother|father|guardian|doctor"
         r"|physician|previous|former|maiden", why="someone else's or a former value",
         anywhere=True),
    Rule(None, "pt es", r"emergencia|destinatario|beneficiario|conjuge|conyuge|\bmae\b"
         r"|\bpai\b|\bmadre\b|\bpadre\b|medico|anterior|antig[oa]",
         why="someone else's or a former value", anywhere=True),
    Rule(None, "de", r"notfall|empf(a|ae)nger|begunstigt|ehepartner|mutter|vater|arzt"
         r"|bisherig|fruher|vorherig|geburtsname|ansprechpartner",
         why="someone else's or a former value", anywhere=True),
    Rule(None, "fr", r"urgence|destinataire|beneficiaire|conjoint|medecin|precedent|ancien",
         why="someone else's or a former value", anywhere=True),
    Rule(None, "*", rf"^(?=.*({_DOC}))(?=.*({_DOC_DATE}))", why="a document's date",
         anywhere=True),
    Rule(None, "*", r"token|csrf|nonce|\bsession( ?id)?$|viewstate|eventvalidation|\butm\b"
         r"|honeypot", why="a value for the machine", anywhere=True),
    Rule(None, "*", r"pick ?up|drop ?off|destination|departure|arrival|abhol|abflug"
         r"|ankunft|anreise|abreise|partida|chegada|llegada|salida|\bdepart\b|arrivee",
         why="a trip's place or time", anywhere=True),
    Rule(None, "*", r"loyal|fidel|\bmember(ship)? ?(id|number|no|nr|card)|frequent fl"
         r"|mileage|kundenkarte|bonuskarte|\bsocio\b|adherent", why="a membership",
         anywhere=True),
    # -- Payment cards: before the rest, whose words ("name", "number") they contain.
    Rule("card_cvc", "*", r"\b(cvc|cvv|cvv2|cvn|csc)\b|card verification"),
    Rule("card_cvc", "en", r"security code|card code"),
    Rule("card_cvc", "pt es fr de", r"codigo de seguranca|codigo de seguridad|cryptogramme"
         r"|code de securite|prufnummer|prufziffer"),
    Rule("card_expiry", "en", r"expir|\bexp\b|valid (thru|until|to)|good thru"),
    Rule("card_expiry", "pt es fr de", r"validade|caducidad|vencimiento|date d expiration"
         r"|gultig bis|ablaufdatum"),
    Rule("card_name", "en", r"name on (the )?card|card ?holder|\bcc name\b"),
    Rule("card_name", "pt es fr de", r"titular d[oa] cartao|titular de la tarjeta"
         r"|nombre en la tarjeta|titulaire de la carte|nom sur la carte|porteur"
         r"|karteninhaber"),
    Rule("card_number", "en", r"card ?(number|no|num|nr)\b|\bcc ?(number|num|no)\b"
         r"|credit ?card|debit ?card", unless=_NOT_CARD),
    Rule("card_number", "pt es fr de", r"numero d[oe] cartao|numero de (la )?tarjeta"
         r"|numero de (la )?carte|kreditkarte|kartennummer", unless=_NOT_CARD),
    # -- Asks for nothing we hold, in words a later rule would take for something else.
    Rule(None, "*", r"\b(day|month|year|dia|mes|ano|anio|tag|monat|jahr|jour|mois|annee)\b",
         why="a part of a date"),
    Rule(None, "en", r"(place|town|city|country|county) of birth|birth ?(place|town|city"
         r"|country)", why="a place of birth"),
    Rule(None, "pt es fr de", r"naturalidade|local de nascimento|(pais|lugar) de nac"
         r"|(lieu|pays|ville) de naissance|geburts(ort|land)", why="a place of birth"),
    Rule(None, "en", r"middle name|second name|nick ?name|display name|preferred name"
         r"|screen name", why="another name"),
    Rule(None, "pt es fr de", r"nome do meio|apodo|surnom|nom d usage|anzeigename"
         r"|spitzname|rufname", why="another name"),
    Rule(None, "*", r"\b(issu(e|ed|ing)|ausstell\w*|emissao|emision|expedicion|delivr\w*)\b",
         why="where or when a document was issued"),
    Rule(None, "*", r"(country|dial(l?ing)?|area|phone) code|prefix|prefixo|prefijo|vorwahl"
         r"|indicatif|extension|\bext\b|durchwahl", why="a part of a phone number"),
    Rule(None, "*", r"captcha|coupon|promo|voucher|discount|gift|gutschein|rabatt|cupon"
         r"|cupao|desconto|descuento|referral|referred|hear about|verification|one time"
         r"|\b(otp|tan|pin)\b|caracteres|security (question|answer)|sicherheitsfrage",
         why="a code"),
    Rule(None, "*", r"address (line )?[23]|\baddress2\b|apartment|\bapt\b|suite|\bflat\b"
         r"|\bunit\b|complement|zusatz|\bpiso\b|\bandar\b|\bporta\b|etage|escalera",
         why="a second address line"),
    Rule(None, "*", r"hausnummer|hausnr|house ?(number|no)|numero da porta", why="a house"
         " number", unless=r"strasse|street|\brua\b|\bcalle\b|\brue\b|address|adress"),
    Rule(None, "de", r"packstation|postnummer|postfiliale|postfach", why="a parcel"
         " locker or post box"),
    Rule(None, "*", r"\b(state|province|provincia|county|region|bundesland|distrito"
         r"|concelho|freguesia|departement|comunidad)\b", unless=r"country|\bpais\b"
         r"|\bland\b|\bpays\b", why="a region"),
    Rule(None, "*", r"(plz|post(al)? ?code|zip|codigo postal|code postal) (und |and |et |e "
         r"|y )?(ort|city|town|ville|localidade|ciudad|poblacion)", why="a postal code "
         "and a city in one field"),
    Rule(None, "*", r"company size|employees|mitarbeit|funcionarios|empleados|\bvat\b"
         r"|\bust ?id|umsatzsteuer|\btva\b|\biva\b", why="about a company"),
    Rule(None, "*", r"\b(fax|telefax|url|website|homepage|web ?site)\b",
         why="a fax number or a web address"),
    # -- Identity and money: specific words, before the general ones.
    Rule("iban", "*", r"\b(iban|nib)\b"),
    Rule("passport_number", "*", r"passport|passaporte|reisepass|passeport|pasaporte",
         unless=r"country|\bpais\b|\bland\b|\bpays\b|photo|foto|scan|upload|copy|copia"),
    Rule("tax_id", "en", r"tax ?(id|number|no|code|identification)|taxpayer|\b(tin|itin|ssn)\b"
         r"|social security"),
    Rule("tax_id", "pt es", r"\b(nif|nipc)\b|contribuinte|identificacao fiscal"
         r"|numero fiscal|identificacion fiscal"),
    Rule("tax_id", "de fr", r"steuer ?(id|nummer|identifikation)|steuerlich"
         r"|identification fiscale|numero fiscal"),
    Rule("id_number", "en", r"id card|identity (card|number|document)|national id"
         r"|\bid (number|no|nr)\b|document number|citizen card"),
    Rule("id_number", "pt", r"cartao (de )?cidadao|numero de identificacao"
         r"|documento de identificacao|numero do documento|\bbi\b"
         r"|\b(n o|no|num|numero) (do )?cc\b"),
    Rule("id_number", "es", r"\b(dni|nie)\b|documento de identidad|numero de documento"),
    Rule("id_number", "de fr", r"personalausweis|ausweisnummer|carte d identite"
         r"|numero de la piece d identite"),
    # -- Accounts.
    Rule("password", "en", r"pass ?word|passwd|\bpwd\b", unless=r"forgot|hint"),
    Rule("password", "pt es fr de", r"palavra ?passe|\bsenha\b|contrasena|mot de passe"
         r"|passwort|kennwort", unless=r"esqueceu|olvid|oublie|vergessen"),
    Rule("username", "en", r"user ?(name|id)|\blogin\b|sign in name", unless=r"e ?mail"),
    Rule("username", "pt es fr de", r"utilizador|usuario|identifiant|nom d utilisateur"
         r"|benutzer", unless=r"e ?mail"),
    # -- Contact.
    Rule("email", "*", r"\be ?mail|courriel|correo|correio eletronico|correio electronico"
         r"|\bmail\b|adresse electronique|direccion electronica|endereco ele(c)?tronico"),
    Rule("phone", "en", r"phone|\btel\b|mobile|\bcell\b|contact number", unless=_PHONE_PART),
    Rule("phone", "pt es fr de", r"telefon|telefone|telemovel|\bmovil\b|\bmobil\b|celular"
         r"|portable|\bhandy\b", unless=_PHONE_PART),
    # -- Who you are.
    Rule("birthday", "en", r"birth ?(date|day)|date of birth|\b(dob|bday)\b"),
    Rule("birthday", "pt es fr de", r"data de nascimento|fecha de nacimiento"
         r"|date de naissance|geburtsdatum|geburtstag|\bfnac\b|data (de )?nasc"
         r"|fecha (de )?nac"),
    Rule("nationality", "*", r"nationalit|nacionalidad|staatsangeh|citizenship"
         r"|staatsburgerschaft"),
    # -- Where you live.
    Rule("postal_code", "en", r"post(al)? ?code|\bzip|eircode"),
    Rule("postal_code", "pt es fr de", r"codigo postal|code postal|\b(cp|cep|plz)\b"
         r"|postleitzahl"),
    Rule("city", "en", r"\b(city|town)\b"),
    Rule("city", "pt es fr de", r"cidade|localidade|ciudad|poblacion|ville|commune"
         r"|\bstadt\b|\bort\b|gemeinde|wohnort"),
    Rule("country", "en", r"\bcountry\b"),
    Rule("country", "pt es fr de", r"\b(pais|pays|land)\b"),
    Rule("address", "en", r"address|street|\baddr\b", unless=r"e ?mail|\bip\b|web"),
    Rule("address", "pt es fr de", r"morada|endereco|\brua\b|direccion|domicilio|\bcalle\b"
         r"|adresse|\brue\b|strasse|\bstr\b|anschrift", unless=r"e ?mail|\bip\b|web"),
    # -- Work: a job title before the company ("Position im Unternehmen").
    Rule("job_title", "en", r"job|position|occupation|profession|\brole\b|designation",
         unless=r"\bid\b|number|industry"),
    Rule("job_title", "pt es fr de", r"profissao|\bcargo\b|funcao|puesto|ocupacion|metier"
         r"|\bposte\b|fonction|beruf"),
    Rule("employer", "en", r"company|employer|organi[sz]ation|business name"),
    Rule("employer", "pt es fr de", r"empresa|entidade patronal|empleador|employeur"
         r"|entreprise|societe|arbeitgeber|\bfirma|unternehmen"),
    Rule("allergy", "*", r"allerg|alergi|unvertraglich|intoleran"),
    # -- Names: the whole name said in parts first, then the parts, then any name.
    Rule("name", "en", r"full ?name|first and last name|name and surname|account ?holder"),
    Rule("name", "pt es fr de", r"nome completo|nombre completo|nombre y apellidos"
         r"|nome e apelido|nom et prenom|prenom et nom|nom complet|vollstandiger name"
         r"|vor und nachname|titular da conta|titular de la cuenta|titulaire du compte"
         r"|kontoinhaber"),
    Rule("family_name", "en", r"last ?names?|sur ?names?|family ?names?|\blname\b"),
    Rule("family_name", "pt es fr de", r"apelido|apellido|nom de famille|nom de naissance"
         r"|nachname|familienname"),
    Rule("given_name", "en", r"first ?(and middle )?names?|given ?names?|\bgiven\b"
         r"|fore ?names?|\bfname\b"),
    Rule("given_name", "pt es fr de", r"primeiro nome|nome proprio|nombre de pila|prenom"
         r"|vorname"),
    Rule("name", "*", r"\b(name|nome|nom|nombre)\b", unless=r"user|company|empresa|firma"
         r"|employ|business|\bfile|\bpet\b|\bcard|cartao|tarjeta|team|workspace|bank"
         r"|banco|banque|school|product|project|\bdog\b|\bcat\b"),
)  # fmt: skip
_COMPILED = tuple(
    (rule, re.compile(rule.words), re.compile(rule.unless) if rule.unless else None)
    for rule in RULES
)
# Input types that never take a stored value, and those that say what they take.
_NO_VALUE = frozenset({"checkbox", "radio", "file", "submit", "button", "reset", "image",
                       "range", "color", "search"})  # fmt: skip
_BY_TYPE = {"email": "email", "tel": "phone", "password": "password"}


def words_of(text: str) -> str:
    """A field's text as the rules read it: camelCase, snake_case and digits split,
    accents removed, case folded, single-spaced ("txtFirstName" -> "txt first name",
    "Straße" -> "strasse")."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", text)
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


def _texts(field: FormField) -> Iterator[tuple[str, str]]:
    """(where, text) of what a field says, most trusted first: the label is what a
    person reads; the name, id and placeholder are often generated."""
    for where, text in (("label", field.label), ("name", field.name), ("id", field.id),
                        ("placeholder", field.placeholder)):  # fmt: skip
        if text.strip():
            yield where, text


def _matches(pattern: re.Pattern[str], unless: re.Pattern[str] | None, words: str) -> bool:
    return bool(pattern.search(words)) and not (unless and unless.search(words))


def _said(where: str, text: str, rule: Rule) -> Classified:
    what = rule.type or f"none: {rule.why}"
    return Classified(rule.type, f"{where}: {text.strip()!r} ({what}, {rule.langs})")


def _own_part(name: str) -> str:
    """The last part of a framework's name ("billingAddress[postNumber]" -> "postNumber",
    "ctl00$main$txtZip" -> "txtZip"): the parts before it name a group, not the field."""
    parts = [p for p in re.split(r"[\[\].$:]+", name) if re.search(r"[^\W\d_]", p)]
    return parts[-1] if parts else name


def from_words(field: FormField) -> Classified | None:
    """What the field's texts say by the rules, or None when no rule matches. The
    `anywhere` rules read a name or id whole, the others only its own part."""
    texts = [(where, text, words_of(text),
              words_of(_own_part(text) if where in ("name", "id") else text))
             for where, text in _texts(field)]  # fmt: skip
    for where, text, whole, _ in texts:
        for rule, pattern, unless in _COMPILED:
            if rule.anywhere and _matches(pattern, unless, whole):
                return _said(where, text, rule)
    for where, text, _, own in texts:
        for rule, pattern, unless in _COMPILED:
            if not rule.anywhere and _matches(pattern, unless, own):
                return _said(where, text, rule)
    return None


def classify(field: FormField) -> Classified:
    """What `field` asks for; see the module docstring for the order."""
    token = field.autocomplete.strip()
    if token:
        kind, valid = from_autocomplete(token)
        # A password token on a text input is the usual trick to stop a browser's
        # autofill (autocomplete=off is ignored), not a request for a password.
        trick = kind == "password" and field.type != "password"
        if valid and not trick:
            return Classified(kind, f"autocomplete: {token}")
    if field.type in _NO_VALUE:
        return Classified(None, f"type={field.type}: takes no stored value")
    said = from_words(field)
    if said is not None:
        return said
    if kind := _BY_TYPE.get(field.type):
        return Classified(kind, f"type={field.type}")
    return Classified(None, UNDECIDED)


# ---------------------------------------------------------------- the form as a whole

_BARE_NAME = re.compile(r"(your |o seu |votre |su |ihr )?(name|nome|nom|nombre)")


def classify_form(fields: Sequence[FormField], similar: Encoder | None = None) -> list[Classified]:
    """`classify` for each field; with `similar` (an encoder: `Memory.embedder`), the
    undecided ones by similarity (`similar.py`); then a bare "Name" read beside its
    parts: next to a given-name field it is the family name (de "Name, Vorname"; fr
    "Nom, Prénom"), next to a family-name field the given name (es "Nombre,
    Apellidos"; pt "Nome, Apelido"). Only visible fields count: a hidden one is no part
    of what a person sees.
    """
    found = [classify(field) for field in fields]
    if similar is not None:
        found = _by_similarity(fields, found, similar)
    shown = {c.type for f, c in zip(fields, found, strict=True) if not f.hidden}
    if ("given_name" in shown) == ("family_name" in shown):
        return found
    part = "family_name" if "given_name" in shown else "given_name"
    for i, (field, kind) in enumerate(zip(fields, found, strict=True)):
        text = next((t for _, t in _texts(field)), "")
        bare = _BARE_NAME.fullmatch(words_of(text))
        if kind.type == "name" and not kind.rule.startswith("autocomplete") and bare:
            found[i] = Classified(part, f"{kind.rule}; beside a {part.replace('_', ' ')}")
    return found


def text_of(field: FormField) -> tuple[str, str] | None:
    """(where, text) of what a person reads for a field, its label (a PDF's tooltip)
    or else its placeholder: what similarity compares. A name or id is often generated
    ("field_12") and says nothing a model could read."""
    for where, text in (("label", field.label), ("placeholder", field.placeholder)):
        if text.strip():
            return where, text.strip()
    return None


def _by_similarity(
    fields: Sequence[FormField], found: list[Classified], encoder: Encoder
) -> list[Classified]:
    """`found`, with the undecided fields that have a text typed by similarity where it
    is near and clear enough; every other field as the rules left it."""
    from assistant.autofill.similar import guess  # numpy and a model only when asked

    asked = [(i, said) for i, (field, kind) in enumerate(zip(fields, found, strict=True))
             if kind.rule == UNDECIDED and (said := text_of(field)) is not None]  # fmt: skip
    out = list(found)
    for (i, (where, text)), near in zip(asked, guess(encoder, [t for _, (_, t) in asked]),
                                        strict=True):  # fmt: skip
        if near is not None and not excluded(near.type, text):
            out[i] = Classified(near.type, f"{where}: {text!r} {near.why}")
    return out


def excluded(kind: str, text: str) -> bool:
    """Whether `text` has words a rule for `kind` must not meet: what the rules know a
    type is not holds for a looser guess too ("Número de tarjeta sanitaria" is near
    "número de tarjeta", and a health card is no bank card)."""
    words = words_of(text)
    return any(rule.type == kind and unless is not None and unless.search(words)
               for rule, _, unless in _COMPILED)  # fmt: skip

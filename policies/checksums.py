"""Check-digit arithmetic that separates real card, IBAN and ID numbers from look-alikes.

A random 16-digit order number passes Luhn one time in ten and a random IBAN-shaped
string passes mod-97 about one time in a hundred, so the detector in `policies.secrets`
leans on these checks for precision instead of guessing from context.
"""

from __future__ import annotations

import math
from collections import Counter

# Total IBAN length (country code and check digits included) per ISO 13616 registry.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

# UK National Insurance prefixes HMRC never issues.
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check used by every payment card number."""
    if not digits.isdigit() or not digits.isascii():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def luhn_complete(partial: str) -> str:
    """`partial` plus the check digit that makes it pass Luhn (for tests and fixtures)."""
    for check in "0123456789":
        if luhn_ok(partial + check):
            return partial + check
    raise ValueError(f"not a digit string: {partial!r}")


def card_issuer(digits: str) -> str | None:
    """The card scheme whose prefix and length fit `digits`, or None."""
    n = len(digits)
    p2, p3, p4, p6 = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if (p4 == 6011 or p2 == 65 or 644 <= p3 <= 649) and 16 <= n <= 19:
        return "discover"
    if p4 in (5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763) and 13 <= n <= 19:
        return "maestro"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= p3 <= 305 or p2 in (36, 38, 39) or p4 == 3095) and 14 <= n <= 19:
        return "diners"
    if (p2 == 62 or 622126 <= p6 <= 622925) and 16 <= n <= 19:
        return "unionpay"
    return None


def iban_mod97(iban: str) -> int:
    """ISO 13616 / ISO 7064 remainder of a compact IBAN; a valid IBAN gives 1."""
    rearranged = iban[4:] + iban[:4]
    remainder = 0
    for char in rearranged:
        value = int(char, 36)  # '0'-'9' -> 0-9, 'A'-'Z' -> 10-35
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
    return remainder


def iban_ok(iban: str) -> bool:
    """A compact, upper-case IBAN with the right length for its country and mod-97 == 1."""
    if not iban.isascii() or not iban.isalnum() or len(iban) < 5:
        return False
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is None or len(iban) != expected or not iban[2:4].isdigit():
        return False
    return iban_mod97(iban) == 1


def iban_check_digits(country: str, bban: str) -> str:
    """The two check digits for `country` + `bban` (for tests and fixtures)."""
    remainder = iban_mod97(country + "00" + bban)
    return f"{98 - remainder:02d}"


def nif_ok(digits: str) -> bool:
    """Portuguese NIF/NIPC: nine digits, a plausible first digit and a mod-11 check digit."""
    if len(digits) != 9 or not digits.isdigit() or not digits.isascii():
        return False
    if digits[0] not in "1235689" and digits[:2] not in ("45", "70", "71", "72", "74", "75"):
        return False
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits[:8]))
    check = 11 - total % 11
    return (0 if check >= 10 else check) == int(digits[8])


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """US SSN ranges the SSA never assigns: area 000, 666, 900-999; group 00; serial 0000."""
    if area in ("000", "666") or area[0] == "9":
        return False
    return group != "00" and serial != "0000"


def nino_ok(prefix: str) -> bool:
    """UK NINO two-letter prefix rules (first not D F I Q U V, second not D F I O Q U V)."""
    first, second = prefix[0], prefix[1]
    if first in "DFIQUV" or second in "DFIOQUV":
        return False
    return prefix not in _NINO_BAD_PREFIXES


def shannon_entropy(value: str) -> float:
    """Bits per character of `value`'s own character distribution."""
    if not value:
        return 0.0
    counts = Counter(value)
    size = len(value)
    return -sum(c / size * math.log2(c / size) for c in counts.values())

"""Resource quantities: "100m", "1.5", "128Mi", "1G", "1e3".

``parse`` gives an exact ``Quantity`` (a ``Fraction`` plus the notation it was written in);
``str(q)`` is Kubernetes' canonical form, which keeps the notation family::

    "0.5" -> "500m"     "1000m" -> "1"     "1.5Gi" -> "1536Mi"    "1024Mi" -> "1Gi"
    "1e3" -> "1e3"      "1000M" -> "1G"    "0.5Ki" -> "512"        "1.5Ki" -> "1536"

The scheduler and kubelet count CPU in milli-units (``milli_value("250m") == 250``) and memory
in bytes (``value("128Mi") == 134217728``); both round up, as Kubernetes does. Parsing is
cached, since the same few strings recur across every pod.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "BINARY_SI",
    "DECIMAL_EXPONENT",
    "DECIMAL_SI",
    "Quantity",
    "QuantityError",
    "canonical",
    "from_milli",
    "from_value",
    "milli_value",
    "parse",
    "value",
]

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"

_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {e: s for s, e in _DECIMAL.items()}
_BINARY_SUFFIX = {e: s for s, e in _BINARY.items()}
_NUMBER = re.compile(r"^([+-]?)(\d*)(?:\.(\d*))?(.*)$")
_EXPONENT = re.compile(r"^[eE]([+-]?\d+)$")
_NANO = Fraction(1, 10**9)
_MAX_DIGITS = 256
_TOO_LARGE = Fraction(10) ** 200


class QuantityError(ValueError):
    """Text that is not a quantity. The message is Kubernetes': quantities must match the
    regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'."""


_REGEX_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


@dataclass(frozen=True, slots=True, order=False)
class Quantity:
    amount: Fraction
    format: str = DECIMAL_SI

    def milli_value(self) -> int:
        return math.ceil(self.amount * 1000)

    def value(self) -> int:
        return math.ceil(self.amount)

    def __str__(self) -> str:
        return _format(self.amount, self.format)

    def __add__(self, other: Quantity) -> Quantity:
        return Quantity(self.amount + other.amount, self.format)

    def __sub__(self, other: Quantity) -> Quantity:
        return Quantity(self.amount - other.amount, self.format)

    def __lt__(self, other: Quantity) -> bool:
        return self.amount < other.amount

    def __le__(self, other: Quantity) -> bool:
        return self.amount <= other.amount

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and self.amount == other.amount

    def __hash__(self) -> int:
        return hash(self.amount)

    def is_zero(self) -> bool:
        return self.amount == 0


def parse(text: str | int | float) -> Quantity:
    if isinstance(text, bool):
        raise QuantityError(_REGEX_MESSAGE)
    if isinstance(text, int):
        return Quantity(Fraction(text), DECIMAL_SI)
    if isinstance(text, float):
        if not math.isfinite(text):
            raise QuantityError(_REGEX_MESSAGE)
        return _parse_str(repr(text))
    return _parse_str(text)


@functools.lru_cache(maxsize=4096)
def _parse_str(text: str) -> Quantity:
    m = _NUMBER.match(text) if text else None
    if m is None:
        raise QuantityError(_REGEX_MESSAGE)
    sign, whole, frac, suffix = m.group(1), m.group(2), m.group(3), m.group(4)
    frac = frac or ""
    if not whole and not frac:
        raise QuantityError(_REGEX_MESSAGE)
    if len(whole) + len(frac) > _MAX_DIGITS:
        raise QuantityError("quantity has too many digits")
    digits = int((whole or "0") + frac)
    amount = Fraction(digits, 10 ** len(frac))
    if sign == "-":
        amount = -amount
    if suffix in _BINARY:
        q = Quantity(amount * (1 << _BINARY[suffix]), BINARY_SI)
    elif suffix in _DECIMAL:
        q = Quantity(amount * Fraction(10) ** _DECIMAL[suffix], DECIMAL_SI)
    else:
        em = _EXPONENT.match(suffix)
        if em is None or len(em.group(1)) > 6:
            raise QuantityError("unable to parse quantity's suffix")
        exp = int(em.group(1))
        if exp > 300:
            raise QuantityError("quantity is too large")
        q = Quantity(amount * Fraction(10) ** max(exp, -300), DECIMAL_EXPONENT)
    if abs(q.amount) >= _TOO_LARGE:
        raise QuantityError("quantity is too large")
    if (q.amount / _NANO).denominator != 1:
        # Kubernetes keeps nano precision and rounds finer values up (away from zero): ".1n" is 1n.
        nanos = math.ceil(abs(q.amount) / _NANO)
        q = Quantity(nanos * _NANO * (-1 if q.amount < 0 else 1), q.format)
    return q


def _format(amount: Fraction, fmt: str) -> str:
    if amount == 0:
        return "0"
    if fmt == BINARY_SI and (-1024 < amount < 1024 or amount.denominator != 1):
        fmt = DECIMAL_SI
    if fmt == BINARY_SI:
        n = amount.numerator
        exp = 0
        while exp < 60 and n % (1 << (exp + 10)) == 0:
            exp += 10
        return f"{n >> exp}{_BINARY_SUFFIX.get(exp, '')}"
    # Round up (away from zero) to nano units, then pick the largest power of 1000 that leaves
    # an integer mantissa.
    negative = amount < 0
    nanos = math.ceil(abs(amount) / _NANO)
    exp = -9
    while (exp < 18 or fmt == DECIMAL_EXPONENT) and nanos % 1000 == 0:
        nanos //= 1000
        exp += 3
    mantissa = -nanos if negative else nanos
    if fmt == DECIMAL_EXPONENT:
        return f"{mantissa}e{exp}" if exp else str(mantissa)
    return f"{mantissa}{_DECIMAL_SUFFIX[exp]}"


def canonical(text: str | int | float) -> str:
    """The canonical spelling of a quantity ("0.5" -> "500m")."""
    if isinstance(text, str):
        return _canonical_str(text)
    return str(parse(text))


@functools.lru_cache(maxsize=4096)
def _canonical_str(text: str) -> str:
    return str(_parse_str(text))


def milli_value(text: str | int | float) -> int:
    """Milli-units, rounded up: "250m" -> 250, "1" -> 1000, "1n" -> 1."""
    return parse(text).milli_value()


def value(text: str | int | float) -> int:
    """Whole units, rounded up: "128Mi" -> 134217728, "100m" -> 1."""
    return parse(text).value()


def from_milli(milli: int) -> Quantity:
    return Quantity(Fraction(milli, 1000), DECIMAL_SI)


def from_value(n: int, *, binary: bool = False) -> Quantity:
    return Quantity(Fraction(n), BINARY_SI if binary else DECIMAL_SI)

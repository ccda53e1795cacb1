"""Human-readable byte sizes in manifests ("512M", "1G"), converted as CC's ByteConverter does."""

from __future__ import annotations

import re

KILOBYTE = 1024
MEGABYTE = 1024 * KILOBYTE
_BYTES = re.compile(r"(-?\d+(?:\.\d+)?)([KMGT]i?B?|B)", re.IGNORECASE)
_NUMERIC_START = re.compile(r"-?\d+(?:\.\d+)?")
_FACTORS = {"T": 1024**4, "G": 1024**3, "M": MEGABYTE, "K": KILOBYTE, "B": 1}
UNITS_HINT = "must use a supported unit: B, K, KB, M, MB, G, GB, T, or TB"


class InvalidUnits(ValueError):
    pass


class NonNumeric(ValueError):
    pass


def ruby_to_s(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_blank(value: object) -> bool:
    return value is None or value is False or (isinstance(value, str) and not value.strip())


def to_bytes(value: object) -> int | None:
    if _is_blank(value):
        return None
    text = ruby_to_s(value)
    if not _NUMERIC_START.match(text):
        raise NonNumeric(text)
    match = _BYTES.fullmatch(text.strip())
    if match is None:
        raise InvalidUnits(text)
    return int(float(match[1]) * _FACTORS[match[2][0].upper()])


def to_megabytes(value: object) -> int | None:
    size = to_bytes(value)
    return None if size is None else int(size / MEGABYTE)


def format_error(value: object, label: str, *, allow_unlimited: bool = False) -> str | None:
    """The message CC gives for a size it cannot read, or None."""
    if allow_unlimited and ruby_to_s(value) in ("-1", "0"):
        return None
    try:
        to_megabytes(value)
    except InvalidUnits:
        return f"{label} {UNITS_HINT}"
    except NonNumeric:
        return f"{label} is not a number"
    return None


def log_rate_to_bytes(value: object) -> int | None:
    text = ruby_to_s(value)
    if not text.strip():
        return None
    if text in ("-1", "0"):
        return int(text)
    try:
        return to_bytes(text.strip())
    except ValueError:
        return None


def human_readable(size: int) -> str:
    """CC's human_readable_byte_value: the largest unit that divides evenly."""
    for unit, factor in (("T", 1024**4), ("G", 1024**3), ("M", MEGABYTE), ("K", KILOBYTE)):
        if size % factor == 0 and size != 0:
            return f"{size // factor}{unit}"
    return f"{size}B"

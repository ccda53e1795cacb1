"""The `label_selector` list filter: parsing into requirements and CC's validation messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from capi_packages.metadata.validation import split_key, validate_key, validate_label_value

MAX_REQUIREMENTS = 50
MISSING_LABEL_SELECTOR = "Missing label_selector value"
TOO_MANY_REQUIREMENTS = f"Too many label_selector requirements (maximum is {MAX_REQUIREMENTS})"
INVALID_LABEL_SELECTOR = "Invalid label_selector value"

Operator = Literal["in", "notin", "equal", "not_equal", "exists", "not_exists"]

# Commas inside parentheses belong to an in/notin value list, not between requirements.
_REQUIREMENT_SPLITTER = re.compile(r"(?:\(.*?\)|[^,])+")
_KEY = r"[\w\-._/]+"
# Tried in this order and the first match wins; in/notin keys are deliberately loose (any
# text) so a bad key is reported by the key rules rather than as an invalid requirement.
_PATTERN_TEXTS: tuple[tuple[str, Operator], ...] = (
    (r"(?P<key>.*?) in \((?P<values>.*)\)", "in"),
    (r"(?P<key>.*?) notin \((?P<values>.*)\)", "notin"),
    (rf"(?P<key>{_KEY})==?(?P<values>.*)", "equal"),
    (rf"(?P<key>{_KEY})!=(?P<values>.*)", "not_equal"),
    (rf"(?P<key>{_KEY})(?P<values>)", "exists"),
    (rf"!(?P<key>{_KEY})(?P<values>)", "not_exists"),
)
_PATTERNS = tuple((re.compile(pattern, re.ASCII), operator) for pattern, operator in _PATTERN_TEXTS)


class LabelSelectorError(ValueError):
    """A label_selector that CC would refuse; `messages` holds every message, in order."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__(", ".join(messages))


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: Operator
    values: tuple[str, ...]

    @property
    def prefix(self) -> str:
        return split_key(self.key)[0]

    @property
    def name(self) -> str:
        return split_key(self.key)[1]


def _split_values(raw: str) -> tuple[str, ...]:
    # Ruby's String#split: no trimming, but trailing empty pieces are dropped ("" -> []).
    pieces = raw.split(",")
    while pieces and pieces[-1] == "":
        pieces.pop()
    return tuple(pieces)


def _parse_requirement(text: str) -> Requirement | None:
    for pattern, operator in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return Requirement(match["key"], operator, _split_values(match["values"]))
    return None


def _requirement_error(requirement: Requirement | None) -> str | None:
    if requirement is None:
        return INVALID_LABEL_SELECTOR
    if (error := validate_key(requirement.key)) is not None:
        return error
    for value in requirement.values:
        if (error := validate_label_value(value)) is not None:
            return error
    return None


def parse_label_selector(raw: str) -> list[Requirement]:
    """Requirements of a label_selector, ANDed; raises LabelSelectorError (a ValueError)."""
    parsed = [_parse_requirement(text) for text in _REQUIREMENT_SPLITTER.findall(raw)]
    if not parsed:
        raise LabelSelectorError([MISSING_LABEL_SELECTOR])
    if len(parsed) > MAX_REQUIREMENTS:
        raise LabelSelectorError([TOO_MANY_REQUIREMENTS])
    # One message per bad requirement, as CC reports them all.
    messages = [error for requirement in parsed if (error := _requirement_error(requirement))]
    if messages:
        raise LabelSelectorError(messages)
    return [requirement for requirement in parsed if requirement is not None]

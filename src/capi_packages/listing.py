"""A list request's query string parsed into one typed ListQuery, with CC's messages in CC's order.

Pure parsing: no web framework and no SQL. Each list endpoint describes what it accepts with a
ListSpec (kept beside the feature's wire format); the feature's repository turns the ListQuery into
SQL (with the helpers of db/listing.py) and http/pagination.py renders the `pagination` block.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, Literal, TypeVar, cast
from urllib.parse import parse_qsl, unquote

from capi_packages.errors import BadQueryParameter, InvalidRequest
from capi_packages.metadata.selector import LabelSelectorError, Requirement, parse_label_selector

T = TypeVar("T")

PAGE_DEFAULT = 1
PER_PAGE_DEFAULT = 50
PER_PAGE_MAX = 5000
MAX_TOTAL_RESULTS_DEFAULT = 2**63 - 1
PAGINATION_KEYS = ("page", "per_page", "order_by")
# CC validates these array filters in its base list message, before the label selector and
# unknown-key checks; every other array filter is checked after them.
COMMON_ARRAY_FILTERS = ("guids",)

TimestampOperator = Literal["eq", "lt", "lte", "gt", "gte"]
Comparator = Literal["<", "<=", ">", ">="]
RELATIONAL_OPERATORS = ("lt", "lte", "gt", "gte")
# Rows match anywhere inside the named second, since the database keeps microseconds.
SECOND_FRACTION = timedelta(microseconds=999_999)
TIMESTAMP_FORMAT_HINT = "Timestamps should be formatted as 'YYYY-MM-DDThh:mm:ssZ'"

_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z", re.ASCII)
_ARRAY_SEPARATOR = re.compile(r",\s*", re.ASCII)
_BRACKETED = re.compile(r"([^\[\]]+)\[([^\[\]]*)\](.*)", re.DOTALL)
_RUBY_INTEGER = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+(?:_[0-9]+)*)", re.ASCII)
_COMPARATORS: dict[Comparator, Callable[[datetime, datetime], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class ListSpec:
    """What one list endpoint accepts; `allowed` is in the order CC's error message lists it."""

    allowed: list[str]
    array_filters: set[str]
    timestamp_filters: set[str] = field(default_factory=lambda: {"created_ats", "updated_ats"})
    order_by_fields: list[str] = field(default_factory=lambda: ["created_at", "updated_at"])
    label_selector: bool = True
    # Non-empty on a nested route: these keys are refused there, listed in this order.
    nested_forbidden: list[str] = field(default_factory=list)
    # Accepted filters that never reappear in pagination links (CC's injected app_guid).
    unlinked: frozenset[str] = frozenset({"app_guid"})
    # Applied, and echoed in links, when the query has no order_by key at all (CC's roles list).
    default_order_by: str | None = None
    # Array filters that also take `name[not]=a,b` (audit events' target_guids).
    exclusion_filters: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TimestampCondition:
    """`eq` ORs its values; every other operator carries exactly one value. Naive UTC."""

    op: TimestampOperator
    values: tuple[datetime, ...]

    def bounds(self) -> list[tuple[tuple[Comparator, datetime], ...]]:
        """The condition as an OR of ANDs of (comparator, instant).

        eq: T <= col <= T+0.999999s; lt: col < T; lte: col <= T+0.999999s;
        gt: col > T+0.999999s; gte: col >= T.
        """
        if self.op == "eq":
            return [((">=", t), ("<=", t + SECOND_FRACTION)) for t in self.values]
        (t,) = self.values
        bounds: dict[str, list[tuple[tuple[Comparator, datetime], ...]]] = {
            "lt": [(("<", t),)],
            "lte": [(("<=", t + SECOND_FRACTION),)],
            "gt": [((">", t + SECOND_FRACTION),)],
            "gte": [((">=", t),)],
        }
        return bounds[self.op]

    def matches(self, instant: datetime) -> bool:
        return any(
            all(_COMPARATORS[comparator](instant, bound) for comparator, bound in conjunction)
            for conjunction in self.bounds()
        )


@dataclass(frozen=True)
class ListQuery:
    """A validated list query. `filters` holds array filters split into values and scalar
    filters (app_guid) as one-element lists; `link_filters` holds every requested filter as it
    is written back into pagination links."""

    page: int = PAGE_DEFAULT
    per_page: int = PER_PAGE_DEFAULT
    order_by: tuple[str, bool] | None = None  # (column, descending)
    order_by_given: bool = False
    filters: dict[str, list[str]] = field(default_factory=dict)
    timestamps: dict[str, list[TimestampCondition]] = field(default_factory=dict)
    label_selector: list[Requirement] | None = None
    raw_label_selector: str | None = None
    link_filters: dict[str, str] = field(default_factory=dict)
    # `name[not]` values of the spec's exclusion filters.
    exclusions: dict[str, list[str]] = field(default_factory=dict)
    # Link parameters CC writes once per value, as `key[]=v1&key[]=v2` (its Array#to_query).
    link_lists: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, in order, and the number of rows on all pages."""

    rows: Sequence[T]
    total: int


@dataclass
class _Param:
    value: str = ""  # plain form; the last occurrence wins
    entries: dict[str, str | None] | None = None  # bracketed form; None marks deeper nesting
    # `key[op][]=v` values, which Rack reads as an array under `op` (entries[op] is None for them).
    lists: dict[str, list[str]] = field(default_factory=dict)


def _group(raw_query_string: str) -> dict[str, _Param]:
    params: dict[str, _Param] = {}
    for key, value in parse_qsl(raw_query_string, keep_blank_values=True):
        bracketed = _BRACKETED.fullmatch(key)
        base = bracketed[1] if bracketed else key
        if not base:
            continue
        param = params.get(base)
        if param is not None and (param.entries is None) != (bracketed is None):
            # Rack refuses a key given both plain and bracketed; CC answers 400.
            raise InvalidRequest()
        if param is None:
            param = params[base] = _Param(entries={} if bracketed else None)
        if bracketed is None:
            param.value = value
        else:
            assert param.entries is not None
            param.entries[bracketed[2]] = None if bracketed[3] else value
            if bracketed[3] == "[]":
                param.lists.setdefault(bracketed[2], []).append(value)
    return params


def _ruby_to_i(text: str) -> int:
    match = _RUBY_INTEGER.match(text)
    if not match:
        return 0
    digits = match[2].replace("_", "")
    # Far beyond any limit, and int() refuses very long digit strings.
    magnitude = 10**30 if len(digits) > 30 else int(digits)
    return -magnitude if match[1] == "-" else magnitude


def _quoted(names: list[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def _humanize(name: str) -> str:
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def _to_array(raw: str) -> list[str]:
    # Each piece is unescaped once more so that links can carry a literal ',' as %2C.
    return [unquote(piece) for piece in _ARRAY_SEPARATOR.split(raw)]


def _parse_timestamp(text: str | None) -> datetime | None:
    match = _TIMESTAMP.fullmatch(text) if text is not None else None
    if not match:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        # Right shape, impossible date (month 13): CC crashes with a 500; we call it malformed.
        return None


def _timestamp_conditions(
    name: str, param: _Param, messages: list[str]
) -> tuple[list[TimestampCondition], dict[str, str]]:
    label = _humanize(name)
    bad_format = f"{label} has an invalid timestamp format. {TIMESTAMP_FORMAT_HINT}"
    if param.entries is None:
        texts = _to_array(param.value)
        instants = [_parse_timestamp(text) for text in texts]
        messages.extend(bad_format for instant in instants if instant is None)
        valid = tuple(instant for instant in instants if instant is not None)
        return [TimestampCondition("eq", valid)], {name: ",".join(texts)}
    conditions: list[TimestampCondition] = []
    links: dict[str, str] = {}
    for op, text in param.entries.items():
        if op not in RELATIONAL_OPERATORS:
            messages.append(f"{label} Invalid relational operator: '{op}'")
        if text is not None and "," in text:
            messages.append(f"{label} only accepts one value when using a relational operator")
            continue
        instant = _parse_timestamp(text)
        if instant is None:
            messages.append(bad_format)
        elif op in RELATIONAL_OPERATORS:
            conditions.append(TimestampCondition(cast(TimestampOperator, op), (instant,)))
            links[f"{name}[{op}]"] = text or ""
    return conditions, links


def _exclusion(name: str, param: _Param, messages: list[str]) -> list[str] | None:
    """`name[not]=a,b` → [a, b]; CC's TargetGuidsValidator words the errors with the raw name."""
    assert param.entries is not None
    label = f"{_humanize(name)} {name}"
    if "not" not in param.entries:
        messages.append(f"{label} has an invalid operator")
        return None
    raw = param.entries["not"]
    if raw is not None:
        return _to_array(raw)
    # The form CC's own pagination links take (`name[not][]=a&name[not][]=b`).
    if "not" in param.lists:
        return param.lists["not"]
    messages.append(f"{label} must be an array")
    return None


def _paging(params: dict[str, _Param], maximum: int, messages: list[str]) -> tuple[int, int]:
    page_raw = params["page"].value if "page" in params else None
    per_page_raw = params["per_page"].value if "per_page" in params else None
    page = _ruby_to_i(page_raw) if page_raw is not None else PAGE_DEFAULT
    per_page = _ruby_to_i(per_page_raw) if per_page_raw is not None else PER_PAGE_DEFAULT
    if page_raw is not None and page <= 0:
        messages.append("Page must be a positive integer")
    if per_page_raw is not None:
        if per_page <= 0:
            messages.append("Per page must be a positive integer")
        elif per_page > PER_PAGE_MAX:
            messages.append(f"Per page must be between 1 and {PER_PAGE_MAX}")
    if (page_raw is not None or per_page_raw is not None) and page * per_page > maximum:
        messages.append(f"Maximum result (page * per_page) must be less than {maximum}")
    return page, per_page


def _ordering(params: dict[str, _Param], spec: ListSpec, messages: list[str]) -> tuple[tuple[str, bool] | None, bool]:
    raw = params["order_by"].value if "order_by" in params else (spec.default_order_by or "")
    if raw == "" or raw.isspace():  # CC ignores a blank order_by
        return None, False
    fields = spec.order_by_fields
    alternatives = "|".join(re.escape(name) for name in fields)
    match = re.fullmatch(rf"([+-]?)({alternatives})", raw)
    if match is None:
        messages.append(f"Order by can only be: {_quoted(fields)}")
        return None, True
    return (match[2], match[1] == "-"), True


def parse_list_query(raw_query_string: str, spec: ListSpec, *, max_total_results: int | None = None) -> ListQuery:
    """Validate a raw query string against `spec`, collecting every CC message in CC's order.

    Raises BadQueryParameter with all messages, or InvalidRequest when a key is given both
    plain and bracketed, or a key that only takes one value is given bracketed.
    """
    params = _group(raw_query_string)
    scalar_keys = set(spec.allowed) - spec.array_filters - spec.timestamp_filters
    if any(params[key].entries is not None for key in scalar_keys if key in params):
        raise InvalidRequest()

    messages: list[str] = []
    maximum = max_total_results if max_total_results is not None else MAX_TOTAL_RESULTS_DEFAULT
    page, per_page = _paging(params, maximum, messages)
    order_by, order_by_given = _ordering(params, spec, messages)

    timestamps: dict[str, list[TimestampCondition]] = {}
    link_filters: dict[str, str] = {}
    for name in spec.allowed:
        if name in spec.timestamp_filters and name in params:
            timestamps[name], links = _timestamp_conditions(name, params[name], messages)
            link_filters.update(links)

    def check_arrays(names: list[str]) -> None:
        for name in names:
            if name in params and params[name].entries is not None:
                messages.append(f"{_humanize(name)} must be an array")

    array_order = [name for name in spec.allowed if name in spec.array_filters]
    check_arrays([name for name in array_order if name in COMMON_ARRAY_FILTERS])

    requirements: list[Requirement] | None = None
    raw_selector: str | None = None
    if spec.label_selector and "label_selector" in params:
        raw_selector = params["label_selector"].value
        try:
            requirements = parse_label_selector(raw_selector)
        except LabelSelectorError as error:
            messages.extend(error.messages)

    unknown = [key for key in params if key not in spec.allowed]
    if unknown:
        messages.append(
            f"Unknown query parameter(s): {_quoted(unknown)}. Valid parameters are: {_quoted(spec.allowed)}"
        )
    exclusions: dict[str, list[str]] = {}
    for name in array_order:
        if name in spec.exclusion_filters and name in params and params[name].entries is not None:
            values = _exclusion(name, params[name], messages)
            if values is not None:
                exclusions[name] = values
    check_arrays([n for n in array_order if n not in COMMON_ARRAY_FILTERS and n not in spec.exclusion_filters])

    forbidden = [key for key in spec.nested_forbidden if key in params]
    if forbidden:
        messages.append(f"Unknown query parameter(s): {_quoted(forbidden)}")

    if messages:
        raise BadQueryParameter(messages)

    filters: dict[str, list[str]] = {}
    for name in spec.allowed:
        if name not in params or name in PAGINATION_KEYS or name in spec.timestamp_filters or name in exclusions:
            continue
        if name == "label_selector" and spec.label_selector:
            link_filters[name] = params[name].value
        elif name in spec.array_filters:
            filters[name] = _to_array(params[name].value)
            link_filters[name] = ",".join(value.replace(",", "%2C") for value in filters[name])
        else:
            filters[name] = [params[name].value]
            link_filters[name] = params[name].value
    for name in spec.unlinked:
        link_filters.pop(name, None)

    return ListQuery(
        page=page,
        per_page=per_page,
        order_by=order_by,
        order_by_given=order_by_given,
        filters=filters,
        timestamps=timestamps,
        label_selector=requirements,
        raw_label_selector=raw_selector,
        link_filters=link_filters,
        exclusions=exclusions,
        link_lists={f"{name}[not]": values for name, values in exclusions.items()},
    )

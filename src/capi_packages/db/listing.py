"""The SQL side of list queries: filters, label selectors, timestamps, order, and one page with its count.

Each feature's repository builds its select() with these helpers and hands it to fetch_page. CC
orders by id (creation order) unless order_by is given; then ties are broken by guid in the same
direction.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, not_, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from capi_packages.listing import Comparator, ListQuery, Page, TimestampCondition
from capi_packages.metadata.selector import Requirement
from capi_packages.metadata.validation import split_key

_COMPARE: dict[Comparator, Callable[[Any, datetime], ColumnElement[bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def filter_in(stmt: Select[Any], column: Any, values: list[str] | None) -> Select[Any]:
    return stmt if values is None else stmt.where(column.in_(values))


def timestamp_clauses(model: Any, timestamps: Mapping[str, list[TimestampCondition]]) -> list[ColumnElement[bool]]:
    """created_ats/updated_ats conditions: each an OR of ANDs on its column, all of them ANDed."""
    clauses: list[ColumnElement[bool]] = []
    for name, conditions in timestamps.items():
        column = getattr(model, name.removesuffix("s"))
        for cond in conditions:
            alternatives = [and_(*(_COMPARE[op](column, instant) for op, instant in conj)) for conj in cond.bounds()]
            clauses.append(or_(*alternatives))
    return clauses


def _label_rows(label_model: Any, req: Requirement) -> list[ColumnElement[bool]]:
    prefix, name = split_key(req.key)
    return [label_model.key_prefix == prefix, label_model.key_name == name]


def label_clauses(
    label_model: Any, owner_guid: Any, requirements: Sequence[Requirement], *, from_index: bool = False
) -> list[ColumnElement[bool]]:
    """A label_selector as conditions on the owning rows, one per requirement (CC ANDs them).

    `label_model` has resource_guid, key_prefix, key_name and value; `owner_guid` is the owner's
    guid column. By default each condition is a correlated EXISTS, which lets a page in id order
    stop as soon as it is full: best when many rows match. `from_index` asks instead for the guids
    the label index holds (`owner_guid IN (...)`), which costs what the matching labels cost: best
    for counting, and for pages when few rows match.
    """
    clauses: list[ColumnElement[bool]] = []
    for req in requirements:
        key = _label_rows(label_model, req)
        if req.operator in ("in", "equal", "not_equal", "notin") and not req.values:
            # `key=` and `key in ()` name no value, so nothing matches; their negations match everything.
            clauses.append(false() if req.operator in ("in", "equal") else true())
            continue
        if req.operator not in ("exists", "not_exists"):
            key.append(label_model.value.in_(req.values))
        if from_index:
            owners = owner_guid.in_(select(label_model.resource_guid).where(*key))
        else:
            owners = exists().where(label_model.resource_guid == owner_guid, *key)
        clauses.append(owners if req.operator in ("in", "equal", "exists") else not_(owners))
    return clauses


def _drives_count(req: Requirement) -> bool:
    return req.operator == "exists" or (req.operator in ("in", "equal") and bool(req.values))


def label_count(label_model: Any, requirements: Sequence[Requirement]) -> Select[Any] | None:
    """The number of owners matching `requirements`, counted on the label index alone, or None.

    Valid only when the selector is the list's one condition: a label row always has its owner
    (a foreign key with cascade), and an owner has at most one label per key, so the rows of one
    positive requirement are exactly the owners that satisfy it. The other requirements are checked
    against those rows' owner guid. None when no requirement can drive the count.
    """
    driving = next((req for req in requirements if _drives_count(req)), None)
    if driving is None:
        return None
    conditions = _label_rows(label_model, driving)
    if driving.operator != "exists":
        conditions.append(label_model.value.in_(driving.values))
    others = [req for req in requirements if req is not driving]
    conditions += label_clauses(aliased(label_model), label_model.resource_guid, others)
    return select(func.count()).select_from(label_model).where(*conditions)


def order_clauses(
    query: ListQuery, model: Any, columns: Mapping[str, InstrumentedAttribute[Any]] | None = None
) -> list[Any]:
    if query.order_by is None:
        return [model.id.asc()]
    field, descending = query.order_by
    column = columns[field] if columns and field in columns else getattr(model, field)
    if descending:
        return [column.desc(), model.guid.desc()]
    return [column.asc(), model.guid.asc()]


def count_rows(session: Session, stmt: Select[Any]) -> int:
    """The number of rows `stmt` selects (its own columns and order do not matter)."""
    return int(session.scalar(stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)) or 0)


def fetch_page(
    session: Session,
    stmt: Select[Any],
    model: Any,
    query: ListQuery,
    *,
    order_columns: Mapping[str, InstrumentedAttribute[Any]] | None = None,
    total: int | None = None,
) -> Page[Any]:
    """The query's page of `stmt` (a select of `model`) with the total, counted unless given."""
    if total is None:
        total = count_rows(session, stmt)
    ordered = stmt.order_by(*order_clauses(query, model, order_columns))
    rows = session.scalars(ordered.offset((query.page - 1) * query.per_page).limit(query.per_page)).all()
    return Page(list(rows), total)

"""One page of a select(): CC orders by id unless order_by is given, ties broken by guid."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from capi_packages.listing import timestamp_bounds


class PageRequest(Protocol):
    page: int
    per_page: int
    order_by: tuple[str, bool] | None


def paginate(session: Session, stmt: Select[Any], model: Any, query: PageRequest) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    if query.order_by:
        field, desc = query.order_by
        col = getattr(model, field)
        order = [col.desc(), model.guid.desc()] if desc else [col.asc(), model.guid.asc()]
    else:
        order = [model.id.asc()]
    rows = session.scalars(stmt.order_by(*order).offset((query.page - 1) * query.per_page).limit(query.per_page)).all()
    return list(rows), int(total)


_OPS = {"<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}


def timestamp_clauses(model: Any, timestamps: dict[str, list[Any]]) -> list[Any]:
    """created_ats/updated_ats conditions as SQL: an OR of ANDs per condition, ANDed together."""
    clauses = []
    for name, conditions in timestamps.items():
        column = getattr(model, name.removesuffix("s"))
        for cond in conditions:
            alternatives = [
                and_(*(getattr(column, _OPS[op])(instant) for op, instant in conj)) for conj in timestamp_bounds(cond)
            ]
            clauses.append(or_(*alternatives))
    return clauses

"""Label selectors as SQL over any resource's label table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, false, not_

from capi_packages.metadata.selector import Requirement
from capi_packages.metadata.validation import split_key


def label_match(label_model: Any, resource_guid: Any, req: Requirement) -> ColumnElement[bool]:
    """One requirement: `label_model` rows belong to the resource whose guid is `resource_guid`."""
    prefix, name = split_key(req.key)
    base = [label_model.resource_guid == resource_guid, label_model.key_prefix == prefix, label_model.key_name == name]
    if req.operator == "exists":
        return exists().where(*base)
    if req.operator == "not_exists":
        return not_(exists().where(*base))
    if not req.values:
        # `key=` and `key in ()` name no value, so nothing can match.
        return false() if req.operator in ("in", "equal") else not_(exists().where(*base, false()))
    valued = exists().where(*base, label_model.value.in_(req.values))
    return valued if req.operator in ("in", "equal") else not_(valued)

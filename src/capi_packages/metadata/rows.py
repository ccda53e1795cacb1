"""Labels and annotations stored as rows: the row shape every resource shares, and syncing them."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from capi_packages.metadata.validation import MetadataChange, split_key


class MetadataRow:
    """One label or annotation; each resource has its own pair of tables with a `resource_guid`."""

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key_prefix: Mapped[str] = mapped_column(String(253), default="")
    key_name: Mapped[str] = mapped_column(String(63))
    value: Mapped[str | None] = mapped_column(Text, nullable=True)

    @property
    def key(self) -> str:
        return f"{self.key_prefix}/{self.key_name}" if self.key_prefix else self.key_name


class HasMetadata(Protocol):
    labels: Any
    annotations: Any


def sync_rows(rows: list[Any], wanted: dict[str, str], row_type: type[Any]) -> None:
    """Make `rows` hold exactly `wanted`, touching only the rows that change."""
    existing = {row.key: row for row in rows}
    for key, row in existing.items():
        if key not in wanted:
            rows.remove(row)
        elif row.value != wanted[key]:
            row.value = wanted[key]
    for key, value in wanted.items():
        if key not in existing:
            prefix, name = split_key(key)
            rows.append(row_type(key_prefix=prefix, key_name=name, value=value))


def apply_metadata(
    resource: HasMetadata,
    labels: dict[str, Any],
    annotations: dict[str, Any],
    row_types: tuple[type[Any], type[Any]],
    *,
    max_labels: int,
    max_annotations: int,
) -> None:
    """Merge a validated request's labels and annotations into the resource's rows (None deletes)."""
    new_labels, new_annotations = MetadataChange(labels, annotations).apply(
        # Rows are written from validated strings; NULL only ever stands for "".
        {row.key: row.value or "" for row in resource.labels},
        {row.key: row.value or "" for row in resource.annotations},
        max_labels=max_labels,
        max_annotations=max_annotations,
    )
    sync_rows(resource.labels, new_labels, row_types[0])
    sync_rows(resource.annotations, new_annotations, row_types[1])


def present_metadata(resource: HasMetadata) -> dict[str, dict[str, str | None]]:
    return {
        "labels": {row.key: row.value for row in resource.labels},
        "annotations": {row.key: row.value for row in resource.annotations},
    }

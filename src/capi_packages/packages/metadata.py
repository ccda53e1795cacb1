"""Writing a package's labels and annotations: the shared merge and limits, mirrored into rows."""

from __future__ import annotations

from typing import Any

from capi_packages.metadata.validation import MetadataChange, split_key
from capi_packages.packages.models import Package, PackageAnnotation, PackageLabel
from capi_packages.settings import Settings


def _sync_rows(rows: list[Any], wanted: dict[str, str], row_type: type[Any]) -> None:
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


def apply(pkg: Package, labels: dict[str, Any], annotations: dict[str, Any], settings: Settings) -> None:
    new_labels, new_annotations = MetadataChange(labels, annotations).apply(
        # Rows are written from validated strings; NULL only ever stands for "".
        {row.key: row.value or "" for row in pkg.labels},
        {row.key: row.value or "" for row in pkg.annotations},
        max_labels=settings.max_labels_per_resource,
        max_annotations=settings.max_annotations_per_resource,
    )
    _sync_rows(pkg.labels, new_labels, PackageLabel)
    _sync_rows(pkg.annotations, new_annotations, PackageAnnotation)

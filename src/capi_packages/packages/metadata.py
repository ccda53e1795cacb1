"""Merging requested labels and annotations into a package's rows, within CC's limits."""

from __future__ import annotations

from typing import Any

from capi_packages.metadata.validation import check_limit, split_key
from capi_packages.packages.models import Package, PackageAnnotation, PackageLabel
from capi_packages.settings import Settings


def _merge(rows: list[Any], requested: dict[str, str | None], row_type: type[Any]) -> None:
    by_key = {(r.key_prefix, r.key_name): r for r in rows}
    for key, value in requested.items():
        prefix, name = split_key(key)
        existing = by_key.get((prefix, name))
        if value is None:
            if existing is not None:
                rows.remove(existing)
                del by_key[(prefix, name)]
        elif existing is not None:
            existing.value = value
        else:
            row = row_type(key_prefix=prefix, key_name=name, value=value)
            rows.append(row)
            by_key[(prefix, name)] = row


def apply(pkg: Package, labels: dict[str, Any], annotations: dict[str, Any], settings: Settings) -> None:
    before = len(pkg.labels)
    _merge(pkg.labels, labels, PackageLabel)
    check_limit(before, len(pkg.labels), len(labels), settings.max_labels_per_resource, "label")
    before = len(pkg.annotations)
    _merge(pkg.annotations, annotations, PackageAnnotation)
    check_limit(before, len(pkg.annotations), len(annotations), settings.max_annotations_per_resource, "annotation")

"""Writing a package's labels and annotations: the shared merge and limits, mirrored into rows."""

from __future__ import annotations

from typing import Any

from capi_packages.metadata.rows import apply_metadata
from capi_packages.packages.models import Package, PackageAnnotation, PackageLabel
from capi_packages.settings import Settings


def apply(pkg: Package, labels: dict[str, Any], annotations: dict[str, Any], settings: Settings) -> None:
    apply_metadata(
        pkg,
        labels,
        annotations,
        (PackageLabel, PackageAnnotation),
        max_labels=settings.max_labels_per_resource,
        max_annotations=settings.max_annotations_per_resource,
    )

"""Label and annotation validation, key grammar, and the merge rules for metadata updates."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from capi_packages.errors import AnnotationLimitExceeded, LabelLimitExceeded

# Key names and label values share one size limit in CC.
MAX_NAME_SIZE = 63
MAX_PREFIX_SIZE = 253
MAX_ANNOTATION_VALUE_SIZE = 5000
RESERVED_PREFIX = "cloudfoundry.org"

# re.ASCII throughout: CC's Ruby \w and /i are ASCII-only, Python's are Unicode-aware.
_INVALID_CHAR = re.compile(r"[^\w\-.]", re.ASCII)
_ALNUM = re.compile(r"[A-Za-z0-9]", re.ASCII)
_DNS_LABEL = r"(?:[a-z0-9]|[a-z0-9][a-z0-9-]{0,61}[a-z0-9])"
# `+` on the dotted group: a prefix needs at least one dot ("onlycom/x" is invalid).
_DNS_NAME = re.compile(rf"(?:{_DNS_LABEL}\.)+{_DNS_LABEL}", re.ASCII | re.IGNORECASE)


def _is_blank(value: str) -> bool:
    # Ruby's String#present? treats whitespace-only strings as blank.
    return value == "" or value.isspace()


def _extract_prefix(key: str) -> tuple[str | None, str]:
    """CC's split: None when the key has no '/', and Ruby split drops trailing empty parts."""
    if "/" not in key:
        return None, key
    parts = key.split("/")
    while parts and parts[-1] == "":
        parts.pop()
    if not parts:
        return None, ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def split_key(key: str) -> tuple[str, str]:
    """(prefix, name) as stored; prefix is '' when the key has none."""
    prefix, name = _extract_prefix(key)
    return prefix or "", name


def join_key(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _describe(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _truncated(text: str) -> str:
    return f"'{text[:8]}...'"


def _name_error(name: str) -> str | None:
    """Character, start/end and size rules shared by key names and label values."""
    if _INVALID_CHAR.search(name):
        return f"'{name}' contains invalid characters"
    if not (_ALNUM.fullmatch(name[0]) and _ALNUM.fullmatch(name[-1])):
        return f"'{name}' starts or ends with invalid characters"
    if len(name) > MAX_NAME_SIZE:
        return f"{_truncated(name)} is greater than {MAX_NAME_SIZE} characters"
    return None


def validate_key(key: str) -> str | None:
    """The first key-grammar violation (unprefixed CC message), or None for a valid key."""
    if _is_blank(key):
        return "key cannot be empty string"
    if key.count("/") > 1:
        return "key has more than one '/'"
    prefix, name = _extract_prefix(key)
    if prefix is not None:
        if not _DNS_NAME.fullmatch(prefix):
            return f"prefix '{prefix}' must be in valid dns format"
        if len(prefix) > MAX_PREFIX_SIZE:
            return f"prefix {_truncated(prefix)} is greater than {MAX_PREFIX_SIZE} characters"
        if prefix.lower() == RESERVED_PREFIX:
            return f"prefix '{RESERVED_PREFIX}' is reserved"
    if _is_blank(name):
        return "key cannot be empty string"
    return _name_error(name)


def validate_label_value(value: Any) -> str | None:
    """The first label-value violation (unprefixed), or None; null and '' are valid."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        # CC stringifies numbers and booleans; we refuse them so stored values stay strings.
        return f"'{_describe(value)}' must be a string"
    return _name_error(value)


def _annotation_value_error(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return f"'{_describe(value)}' must be a string"
    if len(value) > MAX_ANNOTATION_VALUE_SIZE:
        return f"{_truncated(value)} is greater than {MAX_ANNOTATION_VALUE_SIZE} characters"
    return None


def _annotation_value_present(value: Any) -> bool:
    if value is None or value is False:
        return False
    return not (isinstance(value, str) and _is_blank(value))


def validate_metadata(value: Any) -> list[str]:
    """Every problem with a request's `metadata` value, as full CC messages, in CC's order."""
    if not isinstance(value, dict):
        return ["Metadata must be an object"]
    messages: list[str] = []
    unexpected = [key for key in value if key not in ("labels", "annotations")]
    if unexpected:
        quoted = " ".join(f"'{key}'" for key in unexpected)
        messages.append(f"Metadata has unexpected field(s): {quoted}")

    labels = value.get("labels")
    if labels is not None:
        if not isinstance(labels, dict):
            messages.append("Metadata 'labels' is not an object")
        else:
            for key, label_value in labels.items():
                if (error := validate_key(key)) is not None:
                    messages.append(f"Metadata label key error: {error}")
                if (error := validate_label_value(label_value)) is not None:
                    messages.append(f"Metadata label value error: {error}")

    annotations = value.get("annotations")
    if annotations is not None:
        if not isinstance(annotations, dict):
            messages.append("Metadata 'annotations' is not an object")
        else:
            for key, annotation_value in annotations.items():
                # CC only checks an annotation key when its value is present, so a blank
                # or null value lets any key through.
                if _annotation_value_present(annotation_value) and (error := validate_key(key)) is not None:
                    messages.append(f"Metadata annotation key error: {error}")
                if (error := _annotation_value_error(annotation_value)) is not None:
                    messages.append(f"Metadata annotation value error: {error}")
    return messages


def apply_changes(existing: dict[str, str], requested: dict[str, str | None] | None) -> dict[str, str]:
    """Merge `requested` into a copy of `existing`: a value sets the key, None deletes it.

    Keys are normalised through split_key/join_key, so '/x' and 'x' name the same entry
    (annotation keys with blank values skip validation and can arrive in such forms).
    """
    merged = dict(existing)
    for key, value in (requested or {}).items():
        canonical = join_key(*split_key(key))
        if value is None:
            merged.pop(canonical, None)
        else:
            merged[canonical] = value
    return merged


def check_limit(
    before_count: int,
    after_count: int,
    requested_count: int,
    maximum: int,
    kind: Literal["label", "labels", "annotation", "annotations"],
) -> None:
    """Raise the CC limit error when an update grew the count past `maximum`.

    `requested_count` is the number of keys of that kind in the request, deletions included.
    Shrinking or unchanged counts pass even above the maximum, so a resource that is
    already over a lowered limit can still be edited.
    """
    if after_count > before_count and after_count > maximum:
        if kind in ("label", "labels"):
            raise LabelLimitExceeded(requested_count, maximum)
        if kind in ("annotation", "annotations"):
            raise AnnotationLimitExceeded(requested_count, maximum)
        raise ValueError(f"unknown metadata kind {kind!r}")


@dataclass(frozen=True)
class MetadataChange:
    """The label and annotation changes a validated request asks for (None values delete)."""

    labels: dict[str, str | None] = field(default_factory=dict)
    annotations: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_request(cls, metadata: dict[str, Any] | None) -> MetadataChange:
        """From an already validated `metadata` value; null labels or annotations change nothing."""
        metadata = metadata or {}
        return cls(
            labels=dict(metadata.get("labels") or {}),
            annotations=dict(metadata.get("annotations") or {}),
        )

    def apply(
        self,
        labels: dict[str, str],
        annotations: dict[str, str],
        *,
        max_labels: int = 50,
        max_annotations: int = 200,
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The merged (labels, annotations); labels are checked first, as CC does."""
        new_labels = apply_changes(labels, self.labels)
        check_limit(len(labels), len(new_labels), len(self.labels), max_labels, "labels")
        new_annotations = apply_changes(annotations, self.annotations)
        check_limit(
            len(annotations),
            len(new_annotations),
            len(self.annotations),
            max_annotations,
            "annotations",
        )
        return new_labels, new_annotations

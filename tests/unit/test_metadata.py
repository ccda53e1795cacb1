"""Unit tests for metadata validation, merging, limits and the label selector grammar."""

from __future__ import annotations

import string

import pytest

from capi_packages.errors import AnnotationLimitExceeded, LabelLimitExceeded
from capi_packages.metadata.selector import (
    LabelSelectorError,
    Requirement,
    parse_label_selector,
)
from capi_packages.metadata.validation import (
    MetadataChange,
    apply_changes,
    check_limit,
    split_key,
    validate_key,
    validate_label_value,
    validate_metadata,
)

LONG_PREFIX = ".".join(["a" * 63] * 4) + ".bc"  # a valid DNS name of 257 characters


# --- key grammar -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "potato",
        "p_otato",
        "p.otato",
        "p-otato",
        "a",
        "a" * 63,
        "example.com/potato",
        "Example.COM/Potato",
        "sub.cloudfoundry.org/x",
        "cloudfoundry.org.example.com/x",
        "a-b.c-d/e_f.g-h",
        ("a" * 63) + ".com/x",
        ".".join(["a" * 63] * 3) + ".abcdefghi/x",  # exactly 253 characters
    ],
)
def test_valid_keys_have_no_error(key):
    assert validate_key(key) is None


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "key cannot be empty string"),
        ("   ", "key cannot be empty string"),
        ("a/b/c", "key has more than one '/'"),
        ("//", "key has more than one '/'"),
        ("onlycom/x", "prefix 'onlycom' must be in valid dns format"),
        ("/x", "prefix '' must be in valid dns format"),
        (
            "underscores_not_allowed/x",
            "prefix 'underscores_not_allowed' must be in valid dns format",
        ),
        ("-bad.com/x", "prefix '-bad.com' must be in valid dns format"),
        ("bad-.com/x", "prefix 'bad-.com' must be in valid dns format"),
        ("a..com/x", "prefix 'a..com' must be in valid dns format"),
        (("a" * 64) + ".com/x", f"prefix '{'a' * 64}.com' must be in valid dns format"),
        (LONG_PREFIX + "/x", "prefix 'aaaaaaaa...' is greater than 253 characters"),
        ("cloudfoundry.org/x", "prefix 'cloudfoundry.org' is reserved"),
        ("CloudFoundry.org/x", "prefix 'cloudfoundry.org' is reserved"),
        ("example.com/", "key cannot be empty string"),
        ("example.com/ ", "key cannot be empty string"),
        ("/", "key cannot be empty string"),
        ("potato mashed", "'potato mashed' contains invalid characters"),
        ("example.com/a b", "'a b' contains invalid characters"),
        ("café", "'café' contains invalid characters"),
        ("a\nb", "'a\nb' contains invalid characters"),
        ("-a", "'-a' starts or ends with invalid characters"),
        ("a-", "'a-' starts or ends with invalid characters"),
        ("-", "'-' starts or ends with invalid characters"),
        (".a", "'.a' starts or ends with invalid characters"),
        ("_a", "'_a' starts or ends with invalid characters"),
        ("example.com/_a", "'_a' starts or ends with invalid characters"),
        ("b" * 64, "'bbbbbbbb...' is greater than 63 characters"),
        ("example.com/" + "c" * 64, "'cccccccc...' is greater than 63 characters"),
    ],
)
def test_invalid_keys_report_the_first_failing_rule(key, message):
    assert validate_key(key) == message


INVALID_KEY_CHARACTERS = [
    c for c in map(chr, range(32, 127)) if c not in string.ascii_letters + string.digits + "_-./ "
]


@pytest.mark.parametrize("character", INVALID_KEY_CHARACTERS)
def test_every_punctuation_character_is_refused_in_a_key(character):
    assert validate_key("potato" + character) == f"'potato{character}' contains invalid characters"
    assert validate_key(character) == f"'{character}' contains invalid characters"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("potato", ("", "potato")),
        ("example.com/potato", ("example.com", "potato")),
        ("example.com/", ("example.com", "")),
        ("/potato", ("", "potato")),
        ("/", ("", "")),
        ("", ("", "")),
    ],
)
def test_split_key_gives_prefix_and_name(key, expected):
    assert split_key(key) == expected


# --- label values ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "mashed", "a", "A.b_c-9", "v" * 63])
def test_valid_label_values(value):
    assert validate_label_value(value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a b", "'a b' contains invalid characters"),
        (" ", "' ' contains invalid characters"),
        ("a/b", "'a/b' contains invalid characters"),
        ("-a", "'-a' starts or ends with invalid characters"),
        ("a.", "'a.' starts or ends with invalid characters"),
        ("v" * 64, "'vvvvvvvv...' is greater than 63 characters"),
        (5, "'5' must be a string"),
        (True, "'true' must be a string"),
        ([1], "'[1]' must be a string"),
        ({"a": 1}, "'{\"a\":1}' must be a string"),
    ],
)
def test_invalid_label_values(value, message):
    assert validate_label_value(value) == message


# --- validate_metadata -----------------------------------------------------------------------


@pytest.mark.parametrize("metadata", ["notahash", [], None, 5, True])
def test_metadata_must_be_an_object(metadata):
    assert validate_metadata(metadata) == ["Metadata must be an object"]


def test_unexpected_fields_are_quoted_and_separated_by_a_space():
    assert validate_metadata({"other": "stuff", "labels": {}, "extra": "fields"}) == [
        "Metadata has unexpected field(s): 'other' 'extra'"
    ]


@pytest.mark.parametrize(
    "metadata",
    [
        {},
        {"labels": {}, "annotations": {}},
        {"labels": None, "annotations": None},
        {"labels": {"potato": "mashed", "empty": "", "yams": None}},
        {"annotations": {"contacts": "Bill tel(1111111) email(bill@fixme)", "gone": None}},
    ],
)
def test_valid_metadata_has_no_messages(metadata):
    assert validate_metadata(metadata) == []


@pytest.mark.parametrize("labels", ["potato", [], 5, False])
def test_labels_must_be_an_object(labels):
    assert validate_metadata({"labels": labels}) == ["Metadata 'labels' is not an object"]


@pytest.mark.parametrize("annotations", ["potato", [], 5, False])
def test_annotations_must_be_an_object(annotations):
    assert validate_metadata({"annotations": annotations}) == ["Metadata 'annotations' is not an object"]


def test_label_messages_carry_the_key_and_value_prefixes():
    assert validate_metadata({"labels": {"cloudfoundry.org/x": "a b"}}) == [
        "Metadata label key error: prefix 'cloudfoundry.org' is reserved",
        "Metadata label value error: 'a b' contains invalid characters",
    ]


def test_non_string_label_value_is_refused():
    assert validate_metadata({"labels": {"count": 5}}) == ["Metadata label value error: '5' must be a string"]


@pytest.mark.parametrize("value", [None, "", "   "])
def test_annotation_key_is_not_checked_when_its_value_is_blank(value):
    assert validate_metadata({"annotations": {"bad key/with/slashes": value}}) == []


def test_annotation_key_is_checked_when_its_value_is_present():
    assert validate_metadata({"annotations": {"onlycom/x": "v"}}) == [
        "Metadata annotation key error: prefix 'onlycom' must be in valid dns format"
    ]


def test_annotation_values_may_hold_any_text_up_to_5000_characters():
    assert validate_metadata({"annotations": {"a": "ü !(){}" + "x" * 4993}}) == []
    assert validate_metadata({"annotations": {"a": "y" * 5001}}) == [
        "Metadata annotation value error: 'yyyyyyyy...' is greater than 5000 characters"
    ]


def test_non_string_annotation_value_is_refused_after_its_key():
    assert validate_metadata({"annotations": {"-bad": 7}}) == [
        "Metadata annotation key error: '-bad' starts or ends with invalid characters",
        "Metadata annotation value error: '7' must be a string",
    ]


def test_messages_come_labels_first_then_annotations_in_request_order():
    metadata = {
        "other": 1,
        "annotations": {"z-": "v", "a": "w" * 5001},
        "labels": {"b/c/d": "ok", "-x": "-y"},
    }
    assert validate_metadata(metadata) == [
        "Metadata has unexpected field(s): 'other'",
        "Metadata label key error: key has more than one '/'",
        "Metadata label key error: '-x' starts or ends with invalid characters",
        "Metadata label value error: '-y' starts or ends with invalid characters",
        "Metadata annotation key error: 'z-' starts or ends with invalid characters",
        "Metadata annotation value error: 'wwwwwwww...' is greater than 5000 characters",
    ]


# --- merging and limits ----------------------------------------------------------------------


def test_apply_changes_sets_overwrites_and_deletes_only_requested_keys():
    existing = {"keep": "1", "change": "2", "drop": "3"}
    requested = {"change": "two", "drop": None, "missing": None, "new": "4"}
    assert apply_changes(existing, requested) == {"keep": "1", "change": "two", "new": "4"}
    assert existing == {"keep": "1", "change": "2", "drop": "3"}


@pytest.mark.parametrize("requested", [None, {}])
def test_apply_changes_without_requested_keys_changes_nothing(requested):
    assert apply_changes({"a": "1"}, requested) == {"a": "1"}


def test_apply_changes_normalises_keys_as_they_are_stored():
    assert apply_changes({"x": "1"}, {"/x": None, "a.com/b/c": "2"}) == {"a.com/b": "2"}


def test_check_limit_raises_when_the_count_grows_past_the_maximum():
    with pytest.raises(LabelLimitExceeded) as raised:
        check_limit(50, 51, 2, 50, "labels")
    assert raised.value.detail == "Failed to add 2 labels because it would exceed maximum of 50"
    with pytest.raises(AnnotationLimitExceeded) as raised:
        check_limit(2, 3, 1, 2, "annotations")
    assert raised.value.detail == "Failed to add 1 annotations because it would exceed maximum of 2"


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("label", LabelLimitExceeded),
        ("labels", LabelLimitExceeded),
        ("annotation", AnnotationLimitExceeded),
        ("annotations", AnnotationLimitExceeded),
    ],
)
def test_check_limit_accepts_singular_and_plural_kinds(kind, error):
    with pytest.raises(error):
        check_limit(0, 2, 2, 1, kind)


def test_check_limit_refuses_an_unknown_kind():
    with pytest.raises(ValueError):
        check_limit(0, 2, 2, 1, "tags")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("before", "after"),
    [(49, 50), (60, 60), (60, 59), (0, 50)],
)
def test_check_limit_passes_when_not_grown_or_within_the_maximum(before, after):
    check_limit(before, after, 5, 50, "labels")


def test_metadata_change_merges_both_kinds():
    change = MetadataChange.from_request({"labels": {"a": "1", "b": None}, "annotations": None})
    labels, annotations = change.apply({"b": "2", "c": "3"}, {"note": "x"})
    assert labels == {"c": "3", "a": "1"}
    assert annotations == {"note": "x"}


def test_metadata_change_checks_labels_before_annotations():
    change = MetadataChange.from_request(
        {"labels": {"a": "1", "b": "2"}, "annotations": {"x": "1", "y": "2", "z": "3"}}
    )
    with pytest.raises(LabelLimitExceeded, match=r"Failed to add 2 labels .* maximum of 1"):
        change.apply({}, {}, max_labels=1, max_annotations=1)
    with pytest.raises(AnnotationLimitExceeded, match=r"Failed to add 3 annotations .* of 2"):
        change.apply({}, {}, max_labels=5, max_annotations=2)


def test_empty_metadata_change_is_a_no_op():
    change = MetadataChange.from_request(None)
    assert change.apply({"a": "1"}, {"b": "2"}) == ({"a": "1"}, {"b": "2"})


# --- label selector --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("env in (prod,dev)", [Requirement("env", "in", ("prod", "dev"))]),
        ("env notin (prod)", [Requirement("env", "notin", ("prod",))]),
        ("env=prod", [Requirement("env", "equal", ("prod",))]),
        ("env==prod", [Requirement("env", "equal", ("prod",))]),
        ("env!=prod", [Requirement("env", "not_equal", ("prod",))]),
        ("env", [Requirement("env", "exists", ())]),
        ("!env", [Requirement("env", "not_exists", ())]),
        ("example.com/env=prod", [Requirement("example.com/env", "equal", ("prod",))]),
        ("env=", [Requirement("env", "equal", ())]),
        ("env in ()", [Requirement("env", "in", ())]),
        ("env=a,b", [Requirement("env", "equal", ("a",)), Requirement("b", "exists", ())]),
        ("env in (a,,b)", [Requirement("env", "in", ("a", "", "b"))]),
        ("env in (a,)", [Requirement("env", "in", ("a",))]),
        (
            "fruit=strawberry,env in (prod,dev),!tier,,size",
            [
                Requirement("fruit", "equal", ("strawberry",)),
                Requirement("env", "in", ("prod", "dev")),
                Requirement("tier", "not_exists", ()),
                Requirement("size", "exists", ()),
            ],
        ),
    ],
)
def test_label_selector_requirements(selector, expected):
    assert parse_label_selector(selector) == expected


def test_requirement_exposes_prefix_and_name():
    requirement = parse_label_selector("example.com/env=prod")[0]
    assert (requirement.prefix, requirement.name) == ("example.com", "env")
    unprefixed = Requirement("env", "exists", ())
    assert (unprefixed.prefix, unprefixed.name) == ("", "env")


@pytest.mark.parametrize(
    ("selector", "messages"),
    [
        ("", ["Missing label_selector value"]),
        (",", ["Missing label_selector value"]),
        (",".join(["a"] * 51), ["Too many label_selector requirements (maximum is 50)"]),
        ("foo = bar", ["Invalid label_selector value"]),
        ("foo inn (x)", ["Invalid label_selector value"]),
        ("foo in (x", ["Invalid label_selector value"]),
        ("!foo=bar", ["Invalid label_selector value"]),
        ("env in (a, b)", ["' b' contains invalid characters"]),
        ("a/b/c=x", ["key has more than one '/'"]),
        ("a/b/c in (x)", ["key has more than one '/'"]),
        (
            "underscores_not_allowed/x=1",
            ["prefix 'underscores_not_allowed' must be in valid dns format"],
        ),
        ("cloudfoundry.org/x=1", ["prefix 'cloudfoundry.org' is reserved"]),
        ("CloudFoundry.org/x", ["prefix 'cloudfoundry.org' is reserved"]),
        (" in (x)", ["key cannot be empty string"]),
        ("<limes> in (x)", ["'<limes>' contains invalid characters"]),
        ("-a=b", ["'-a' starts or ends with invalid characters"]),
        ("a=-b", ["'-b' starts or ends with invalid characters"]),
        ("a=" + "v" * 64, ["'vvvvvvvv...' is greater than 63 characters"]),
        ("a===b", ["'=b' contains invalid characters"]),
        (
            "a=b!,c=-d,e f",
            [
                "'b!' contains invalid characters",
                "'-d' starts or ends with invalid characters",
                "Invalid label_selector value",
            ],
        ),
    ],
)
def test_label_selector_errors(selector, messages):
    with pytest.raises(LabelSelectorError) as raised:
        parse_label_selector(selector)
    assert raised.value.messages == messages
    assert str(raised.value) == ", ".join(messages)
    assert isinstance(raised.value, ValueError)


def test_fifty_requirements_are_allowed():
    assert len(parse_label_selector(",".join(["a"] * 50))) == 50


def test_requirements_are_hashable_values():
    assert len({Requirement("a", "exists", ()), Requirement("a", "exists", ())}) == 1

"""Unit tests for list query parsing, its CC error messages, and the pagination block."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from capi_packages.errors import BadQueryParameter, InvalidRequest
from capi_packages.http.pagination import pagination_block
from capi_packages.listing import ListQuery, ListSpec, TimestampCondition, parse_list_query
from capi_packages.metadata.selector import Requirement
from capi_packages.packages.schemas import APP_PACKAGES_LIST, PACKAGES_LIST

BASE = "https://api.example.org/v3/packages"
VALID = (
    "Valid parameters are: 'page', 'per_page', 'order_by', 'created_ats', 'updated_ats', "
    "'guids', 'states', 'types', 'app_guids', 'app_guid', 'space_guids', "
    "'organization_guids', 'label_selector'"
)
BAD_TIMESTAMP = "has an invalid timestamp format. Timestamps should be formatted as 'YYYY-MM-DDThh:mm:ssZ'"
ORDER_BY = "Order by can only be: 'created_at', 'updated_at'"


def messages_for(query_string: str, spec: ListSpec = PACKAGES_LIST, **kwargs) -> str:
    with pytest.raises(BadQueryParameter) as raised:
        parse_list_query(query_string, spec, **kwargs)
    prefix = "The query parameter is invalid: "
    assert raised.value.detail.startswith(prefix)
    return raised.value.detail[len(prefix) :]


def first_href(query_string: str, spec: ListSpec = PACKAGES_LIST, base: str = BASE) -> str:
    block = pagination_block(base, parse_list_query(query_string, spec), 0)
    return block["first"]["href"]


# --- paging ----------------------------------------------------------------------------------


def test_an_empty_query_uses_the_defaults():
    assert parse_list_query("", PACKAGES_LIST) == ListQuery()
    assert ListQuery().page == 1 and ListQuery().per_page == 50


@pytest.mark.parametrize(
    ("raw", "page"),
    [("1", 1), ("10abc", 10), ("%207", 7), ("%2B3", 3), ("1_000", 1000), ("2.9", 2), ("007", 7)],
)
def test_page_is_parsed_like_ruby_to_i(raw, page):
    assert parse_list_query(f"page={raw}", PACKAGES_LIST).page == page


@pytest.mark.parametrize("raw", ["abc", "", "0", "-1", "_1", "%20", "0x10"])
def test_page_must_be_a_positive_integer(raw):
    assert messages_for(f"page={raw}") == "Page must be a positive integer"


@pytest.mark.parametrize(("raw", "per_page"), [("1", 1), ("5000", 5000), ("20abc", 20)])
def test_per_page_accepts_1_to_5000(raw, per_page):
    assert parse_list_query(f"per_page={raw}", PACKAGES_LIST).per_page == per_page


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "Per page must be a positive integer"),
        ("", "Per page must be a positive integer"),
        ("abc", "Per page must be a positive integer"),
        ("-5", "Per page must be a positive integer"),
        ("5001", "Per page must be between 1 and 5000"),
    ],
)
def test_per_page_messages(raw, message):
    assert messages_for(f"per_page={raw}") == message


def test_repeated_plain_keys_keep_the_last_value():
    assert parse_list_query("page=0&page=3&per_page=9999&per_page=2", PACKAGES_LIST).page == 3


def test_maximum_result_uses_the_configured_limit():
    assert parse_list_query("page=2&per_page=50", PACKAGES_LIST, max_total_results=100).page == 2
    assert messages_for("page=3", max_total_results=100) == "Maximum result (page * per_page) must be less than 100"
    assert messages_for("per_page=101", max_total_results=100) == (
        "Maximum result (page * per_page) must be less than 100"
    )


def test_maximum_result_defaults_to_the_largest_bigint():
    assert messages_for("page=" + "9" * 40) == (
        "Maximum result (page * per_page) must be less than 9223372036854775807"
    )
    assert parse_list_query("page=184467440737095516", PACKAGES_LIST).page == 184467440737095516


# --- ordering --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "order_by"),
    [
        ("created_at", ("created_at", False)),
        ("%2Bcreated_at", ("created_at", False)),
        ("-created_at", ("created_at", True)),
        ("updated_at", ("updated_at", False)),
        ("-updated_at", ("updated_at", True)),
    ],
)
def test_order_by_accepts_an_optional_direction(raw, order_by):
    query = parse_list_query(f"order_by={raw}", PACKAGES_LIST)
    assert query.order_by == order_by and query.order_by_given


@pytest.mark.parametrize("raw", ["", "%20"])
def test_a_blank_order_by_is_ignored(raw):
    query = parse_list_query(f"order_by={raw}", PACKAGES_LIST)
    assert query.order_by is None and not query.order_by_given


@pytest.mark.parametrize("raw", ["name", "+created_at", "created_at%20", "--created_at", "id"])
def test_other_order_by_values_are_refused(raw):
    assert messages_for(f"order_by={raw}") == ORDER_BY


# --- unknown keys and array filters ----------------------------------------------------------


def test_unknown_keys_are_listed_in_received_order_with_the_valid_ones():
    assert messages_for("invalid=1&page=1&bad=2&invalid=3") == (
        f"Unknown query parameter(s): 'invalid', 'bad'. {VALID}"
    )


def test_unknown_bracketed_keys_are_named_by_their_base():
    assert messages_for("foo[bar]=1&foo[baz]=2") == f"Unknown query parameter(s): 'foo'. {VALID}"


@pytest.mark.parametrize(
    ("query_string", "values"),
    [
        ("guids=a,b", ["a", "b"]),
        ("guids=a,%20%20b", ["a", "b"]),
        ("guids=a%20,b", ["a ", "b"]),
        ("guids=a", ["a"]),
        ("guids=", [""]),
        ("guids=a,", ["a", ""]),
        ("guids=a%252Cb,c", ["a,b", "c"]),
        ("guids=a%252Bb", ["a+b"]),
        ("guids=a+b", ["a b"]),
    ],
)
def test_array_filters_are_split_and_unescaped_once_more(query_string, values):
    assert parse_list_query(query_string, PACKAGES_LIST).filters == {"guids": values}


def test_every_array_filter_is_parsed():
    query = parse_list_query(
        "states=READY,FAILED&types=bits&app_guids=a&space_guids=s&organization_guids=o",
        PACKAGES_LIST,
    )
    assert query.filters == {
        "states": ["READY", "FAILED"],
        "types": ["bits"],
        "app_guids": ["a"],
        "space_guids": ["s"],
        "organization_guids": ["o"],
    }


def test_app_guid_is_kept_whole():
    assert parse_list_query("app_guid=a,b", PACKAGES_LIST).filters == {"app_guid": ["a,b"]}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("types[x]", "Types must be an array"),
        ("states[]", "States must be an array"),
        ("guids[not]", "Guids must be an array"),
        ("organization_guids[a][b]", "Organization guids must be an array"),
    ],
)
def test_array_filters_in_hash_form_are_refused(key, message):
    assert messages_for(f"{key}=y") == message


@pytest.mark.parametrize(
    "query_string",
    [
        "created_ats=2020-01-01T00:00:00Z&created_ats[gt]=2020-01-01T00:00:00Z",
        "created_ats[gt]=2020-01-01T00:00:00Z&created_ats=2020-01-01T00:00:00Z",
        "types=a&types[x]=b",
        "bogus[x]=a&bogus=b",
    ],
)
def test_a_key_given_plain_and_bracketed_is_an_invalid_request(query_string):
    with pytest.raises(InvalidRequest):
        parse_list_query(query_string, PACKAGES_LIST)


@pytest.mark.parametrize("key", ["page[x]", "per_page[]", "order_by[a]", "label_selector[x]", "app_guid[x]"])
def test_single_value_keys_in_hash_form_are_an_invalid_request(key):
    with pytest.raises(InvalidRequest):
        parse_list_query(f"{key}=1", PACKAGES_LIST)


# --- nested route ----------------------------------------------------------------------------


def test_nested_route_refuses_guid_filters_in_a_fixed_order_without_valid_list():
    assert messages_for("space_guids=s&app_guids=a", APP_PACKAGES_LIST) == (
        "Unknown query parameter(s): 'app_guids', 'space_guids'"
    )
    assert messages_for("space_guids=&organization_guids=o&app_guids[x]=a", APP_PACKAGES_LIST) == (
        "App guids must be an array, Unknown query parameter(s): 'app_guids', 'organization_guids', 'space_guids'"
    )


def test_nested_route_accepts_the_other_filters():
    query = parse_list_query("types=bits&guids=g&label_selector=a", APP_PACKAGES_LIST)
    assert query.filters == {"guids": ["g"], "types": ["bits"]}


def test_global_route_allows_guid_filters():
    assert parse_list_query("space_guids=s&app_guids=a", PACKAGES_LIST).filters == {
        "app_guids": ["a"],
        "space_guids": ["s"],
    }


# --- timestamps ------------------------------------------------------------------------------

T1 = datetime(2020, 6, 30, 12, 34, 56)
T2 = datetime(2021, 1, 1, 0, 0, 0)


def test_timestamp_equality_takes_several_values():
    query = parse_list_query("created_ats=2020-06-30T12:34:56Z,2021-01-01T00:00:00Z", PACKAGES_LIST)
    assert query.timestamps == {"created_ats": [TimestampCondition("eq", (T1, T2))]}


def test_timestamp_operators_combine():
    query = parse_list_query(
        "updated_ats[gt]=2020-06-30T12:34:56Z&updated_ats%5Blte%5D=2021-01-01T00:00:00Z",
        PACKAGES_LIST,
    )
    assert query.timestamps == {"updated_ats": [TimestampCondition("gt", (T1,)), TimestampCondition("lte", (T2,))]}


@pytest.mark.parametrize(
    "raw",
    [
        "2020-06-30",
        "2020-06-30T12:34:56",
        "2020-06-30T12:34:56.123Z",
        "2020-06-30T12:34:56+00:00",
        "2020-06-30 12:34:56Z",
        "",
        "2020-13-01T00:00:00Z",
        "2020-02-30T00:00:00Z",
        "2020-01-01T24:00:00Z",
        "0000-01-01T00:00:00Z",
        "２020-01-01T00:00:00Z",  # noqa: RUF001 (a full-width digit that Ruby's \d would not match)
    ],
)
def test_badly_formatted_or_impossible_timestamps_are_refused(raw):
    assert messages_for(f"created_ats={raw}") == f"Created ats {BAD_TIMESTAMP}"
    assert messages_for(f"updated_ats[lt]={raw}") == f"Updated ats {BAD_TIMESTAMP}"


def test_each_bad_equality_value_gets_a_message():
    assert messages_for("created_ats=x,2020-01-01T00:00:00Z,y") == (
        f"Created ats {BAD_TIMESTAMP}, Created ats {BAD_TIMESTAMP}"
    )


def test_unknown_relational_operator():
    assert messages_for("created_ats[foo]=2020-01-01T00:00:00Z") == ("Created ats Invalid relational operator: 'foo'")
    assert messages_for("created_ats[eq]=bad") == (
        f"Created ats Invalid relational operator: 'eq', Created ats {BAD_TIMESTAMP}"
    )


def test_relational_operator_takes_one_value():
    assert messages_for("updated_ats[gte]=2020-01-01T00:00:00Z,2021-01-01T00:00:00Z") == (
        "Updated ats only accepts one value when using a relational operator"
    )


def test_deeper_nesting_is_a_bad_timestamp():
    assert messages_for("created_ats[gt][x]=2020-01-01T00:00:00Z") == f"Created ats {BAD_TIMESTAMP}"


@pytest.mark.parametrize(
    ("condition", "inside", "outside"),
    [
        (
            TimestampCondition("eq", (T1,)),
            [T1, T1 + timedelta(microseconds=999_999)],
            [T1 - timedelta(microseconds=1), T1 + timedelta(seconds=1)],
        ),
        (TimestampCondition("lt", (T1,)), [T1 - timedelta(microseconds=1)], [T1]),
        (
            TimestampCondition("lte", (T1,)),
            [T1 + timedelta(microseconds=999_999)],
            [T1 + timedelta(seconds=1)],
        ),
        (
            TimestampCondition("gt", (T1,)),
            [T1 + timedelta(seconds=1)],
            [T1 + timedelta(microseconds=999_999)],
        ),
        (TimestampCondition("gte", (T1,)), [T1], [T1 - timedelta(microseconds=1)]),
        (TimestampCondition("eq", (T1, T2)), [T1, T2], [T2 + timedelta(seconds=1)]),
    ],
)
def test_timestamp_conditions_match_whole_seconds(condition, inside, outside):
    assert all(condition.matches(instant) for instant in inside)
    assert not any(condition.matches(instant) for instant in outside)


def test_timestamp_bounds_spell_out_the_comparisons():
    fraction = timedelta(microseconds=999_999)
    assert TimestampCondition("eq", (T1, T2)).bounds() == [
        ((">=", T1), ("<=", T1 + fraction)),
        ((">=", T2), ("<=", T2 + fraction)),
    ]
    assert TimestampCondition("lt", (T1,)).bounds() == [(("<", T1),)]
    assert TimestampCondition("lte", (T1,)).bounds() == [(("<=", T1 + fraction),)]
    assert TimestampCondition("gt", (T1,)).bounds() == [((">", T1 + fraction),)]
    assert TimestampCondition("gte", (T1,)).bounds() == [((">=", T1),)]


# --- label selector --------------------------------------------------------------------------


def test_label_selector_is_parsed_and_kept_raw():
    query = parse_list_query("label_selector=fruit%3Dstrawberry,!tier", PACKAGES_LIST)
    assert query.label_selector == [
        Requirement("fruit", "equal", ("strawberry",)),
        Requirement("tier", "not_exists", ()),
    ]
    assert query.raw_label_selector == "fruit=strawberry,!tier"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Missing label_selector value"),
        ("foo%20%3D%20bar", "Invalid label_selector value"),
        ("a/b/c", "key has more than one '/'"),
        ("cloudfoundry.org/a", "prefix 'cloudfoundry.org' is reserved"),
        (",".join(["a"] * 51), "Too many label_selector requirements (maximum is 50)"),
    ],
)
def test_label_selector_errors_are_not_prefixed(raw, message):
    assert messages_for(f"label_selector={raw}") == message


def test_label_selector_is_unknown_when_the_endpoint_has_none():
    spec = ListSpec(allowed=["page", "per_page", "guids"], array_filters={"guids"}, label_selector=False)
    assert messages_for("label_selector=a", spec) == (
        "Unknown query parameter(s): 'label_selector'. Valid parameters are: 'page', 'per_page', 'guids'"
    )


# --- message order ---------------------------------------------------------------------------


def test_all_messages_are_collected_in_cc_order():
    query_string = (
        "invalid=1&types[x]=y&label_selector=&guids[x]=g&updated_ats=u&created_ats[foo]=1,2"
        "&order_by=name&per_page=0&page=0&bad=2&app_guids[a]=b&states[b]=c"
    )
    assert messages_for(query_string, APP_PACKAGES_LIST) == ", ".join(
        [
            "Page must be a positive integer",
            "Per page must be a positive integer",
            ORDER_BY,
            "Created ats Invalid relational operator: 'foo'",
            "Created ats only accepts one value when using a relational operator",
            f"Updated ats {BAD_TIMESTAMP}",
            "Guids must be an array",
            "Missing label_selector value",
            f"Unknown query parameter(s): 'invalid', 'bad'. {VALID}",
            "States must be an array",
            "Types must be an array",
            "App guids must be an array",
            "Unknown query parameter(s): 'app_guids'",
        ]
    )


# --- pagination block ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query_string", "href"),
    [
        ("types=bits", f"{BASE}?page=1&per_page=50&types=bits"),
        ("guids=a,b", f"{BASE}?guids=a%2Cb&page=1&per_page=50"),
        (
            "label_selector=fruit=strawberry",
            f"{BASE}?label_selector=fruit%3Dstrawberry&page=1&per_page=50",
        ),
        ("order_by=created_at", f"{BASE}?order_by=%2Bcreated_at&page=1&per_page=50"),
        ("order_by=", f"{BASE}?page=1&per_page=50"),
        (
            "page=3&per_page=2&order_by=-updated_at",
            f"{BASE}?order_by=-updated_at&page=1&per_page=2",
        ),
        ("guids=a%252Cb,c", f"{BASE}?guids=a%252Cb%2Cc&page=1&per_page=50"),
        ("states=", f"{BASE}?page=1&per_page=50&states="),
        ("app_guid=x&types=bits", f"{BASE}?page=1&per_page=50&types=bits"),
        (
            "label_selector=env%20in%20(a,b),!x",
            f"{BASE}?label_selector=env+in+%28a%2Cb%29%2C%21x&page=1&per_page=50",
        ),
        (
            "created_ats[lt]=2021-01-01T00:00:00Z&created_ats[gt]=2020-01-01T00:00:00Z",
            f"{BASE}?created_ats%5Bgt%5D=2020-01-01T00%3A00%3A00Z"
            "&created_ats%5Blt%5D=2021-01-01T00%3A00%3A00Z&page=1&per_page=50",
        ),
        (
            "updated_ats=2020-01-01T00:00:00Z,2021-01-01T00:00:00Z",
            f"{BASE}?page=1&per_page=50&updated_ats=2020-01-01T00%3A00%3A00Z%2C2021-01-01T00%3A00%3A00Z",
        ),
    ],
)
def test_links_carry_the_requested_filters_sorted_and_escaped(query_string, href):
    assert first_href(query_string) == href


def test_links_on_the_app_route_use_its_base_path():
    base = "https://api.example.org/v3/apps/g/packages"
    href = first_href("page=1&per_page=2&order_by=-created_at", APP_PACKAGES_LIST, base)
    assert href == f"{base}?order_by=-created_at&page=1&per_page=2"


def test_pagination_block_with_a_next_page():
    query = parse_list_query("page=1&per_page=2", PACKAGES_LIST)
    assert pagination_block(BASE, query, 3) == {
        "total_results": 3,
        "total_pages": 2,
        "first": {"href": f"{BASE}?page=1&per_page=2"},
        "last": {"href": f"{BASE}?page=2&per_page=2"},
        "next": {"href": f"{BASE}?page=2&per_page=2"},
        "previous": None,
    }


def test_an_empty_result_still_has_one_page():
    block = pagination_block(BASE, ListQuery(), 0)
    assert block["total_pages"] == 1
    assert block["last"] == {"href": f"{BASE}?page=1&per_page=50"}
    assert block["next"] is None and block["previous"] is None


def test_a_page_past_the_end_still_links_to_the_previous_page():
    block = pagination_block(BASE, parse_list_query("page=5", PACKAGES_LIST), 1)
    assert block["next"] is None
    assert block["previous"] == {"href": f"{BASE}?page=4&per_page=50"}
    assert block["last"] == {"href": f"{BASE}?page=1&per_page=50"}


@pytest.mark.parametrize(("total", "pages"), [(0, 1), (1, 1), (50, 1), (51, 2), (100, 2), (101, 3)])
def test_total_pages_rounds_up(total, pages):
    assert pagination_block(BASE, ListQuery(), total)["total_pages"] == pages


def test_middle_page_has_next_and_previous():
    block = pagination_block(BASE, parse_list_query("page=2&per_page=1", PACKAGES_LIST), 3)
    assert block["next"] == {"href": f"{BASE}?page=3&per_page=1"}
    assert block["previous"] == {"href": f"{BASE}?page=1&per_page=1"}


def test_link_params_add_override_and_drop_parameters():
    query = parse_list_query("types=bits&states=READY", PACKAGES_LIST)
    block = pagination_block(BASE, query, 0, {"types": "docker", "states": None, "x y": "a:b"})
    assert block["first"]["href"] == f"{BASE}?page=1&per_page=50&types=docker&x+y=a%3Ab"


def test_link_values_are_cgi_escaped():
    query = ListQuery(link_filters={"guids": "a b,c=d+e:f[g]!(h)/~"})
    assert pagination_block(BASE, query, 0)["first"]["href"] == (
        f"{BASE}?guids=a+b%2Cc%3Dd%2Be%3Af%5Bg%5D%21%28h%29%2F~&page=1&per_page=50"
    )


# --- exclusion filters (`name[not]=`, audit events' target_guids) ---------------------------------
EXCLUDING = ListSpec(
    allowed=["page", "per_page", "order_by", "created_ats", "updated_ats", "guids", "types", "target_guids"],
    array_filters={"guids", "types", "target_guids"},
    label_selector=False,
    exclusion_filters=frozenset({"target_guids"}),
)


@pytest.mark.parametrize(
    ("query_string", "exclusions", "filters"),
    [
        ("target_guids[not]=a,b", {"target_guids": ["a", "b"]}, {}),
        ("target_guids[not]=", {"target_guids": [""]}, {}),
        ("target_guids[not][]=a&target_guids[not][]=b%2Cc", {"target_guids": ["a", "b,c"]}, {}),
        ("target_guids=a,b", {}, {"target_guids": ["a", "b"]}),
    ],
)
def test_an_exclusion_filter_takes_not_or_a_plain_list(query_string, exclusions, filters):
    query = parse_list_query(query_string, EXCLUDING)
    assert (query.exclusions, query.filters) == (exclusions, filters)


def test_an_exclusion_is_linked_once_per_value_in_the_given_order():
    query = parse_list_query("target_guids[not]=z,a&per_page=2", EXCLUDING)
    assert pagination_block(BASE, query, 5)["next"] == {
        "href": f"{BASE}?page=2&per_page=2&target_guids%5Bnot%5D%5B%5D=z&target_guids%5Bnot%5D%5B%5D=a"
    }


@pytest.mark.parametrize(
    ("query_string", "message"),
    [
        ("target_guids[in]=a", "Target guids target_guids has an invalid operator"),
        ("target_guids[not][x]=a", "Target guids target_guids must be an array"),
        ("types[not]=a", "Types must be an array"),
    ],
)
def test_a_bad_exclusion_is_worded_as_cc_words_it(query_string, message):
    assert messages_for(query_string, EXCLUDING) == message


def test_a_filter_without_exclusions_still_refuses_not():
    assert messages_for("types[not]=bits") == "Types must be an array"

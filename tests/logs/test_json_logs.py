"""CAPI_LOG_FORMAT=json on a real server: every line is a JSON object carrying the request id."""

from __future__ import annotations

import json
import logging

import httpx

from capi_packages.logs import json_formatter, mask_secrets
from tests.process.conftest import mint, running_server


def test_json_lines_carry_the_request_id_and_the_access_fields_but_no_token(tmp_path):
    (tmp_path / "data").mkdir()
    with running_server(tmp_path, CAPI_LOG_FORMAT="json", CAPI_LOG_LEVEL="info") as (url, env):
        token = mint(env, "--user-id", "alice-guid", "--admin")
        headers = {"Authorization": f"bearer {token}", "X-Vcap-Request-Id": "rid-from-the-client-1"}
        assert httpx.get(f"{url}/v3/packages/no-such-package", headers=headers).status_code == 404
        signed = httpx.get(f"{url}/blobs/packages/nope?expires=1&signature=very-secret-signature")
        assert signed.status_code in (403, 404)
    lines = [line for line in (tmp_path / "serve.log").read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line parses
    for record in records:
        assert {"timestamp", "level", "logger", "message", "vcap_request_id"} <= set(record)
    access = [r for r in records if r["logger"] == "capi_packages.access"]
    mine = [r for r in access if r["vcap_request_id"] == "rid-from-the-client-1"]
    assert len(mine) == 1
    line = mine[0]
    assert line["level"] == "INFO"
    assert line["method"] == "GET"
    assert line["route"] == "/v3/packages/{guid}"
    assert line["path"] == "/v3/packages/no-such-package"
    assert line["status"] == 404
    assert line["user_guid"] == "alice-guid"
    assert isinstance(line["duration_ms"], float | int)
    # Requests without an id get one made up, which the response carried and the line names.
    assert all(r["vcap_request_id"] for r in access)
    text = (tmp_path / "serve.log").read_text()
    assert token not in text
    assert "very-secret-signature" not in text


def test_secrets_in_messages_are_masked():
    masked = mask_secrets("auth Bearer eyJabc.def-ghi and /blobs/x?expires=5&signature=abc123&a=b password=hunter2")
    assert masked == "auth Bearer *** and /blobs/x?expires=5&signature=***&a=b password=***"
    record = logging.LogRecord("capi_packages.x", logging.WARNING, __file__, 1, "got %s", ("token=abc",), None)
    record.request_id = "-"
    out = json.loads(json_formatter().format(record))
    assert out["message"] == "got token=***"
    assert out["vcap_request_id"] is None
    assert out["level"] == "WARNING" and out["logger"] == "capi_packages.x"

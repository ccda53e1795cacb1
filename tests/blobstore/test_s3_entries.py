"""Package entries on the S3 blobstore (a real moto server): the index, one file, a range, a diff."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bits_api.bits_support import regular, uploaded_package, zip_entries
from tests.blobstore.conftest import KEY_ID, REGION, SECRET


@pytest.fixture
def settings_overrides(s3_server: Any, bucket: str) -> dict[str, Any]:
    return {
        "blobstore_type": "s3",
        "s3_bucket": bucket,
        "s3_endpoint_url": s3_server.endpoint_url,
        "s3_region": REGION,
        "s3_access_key_id": KEY_ID,
        "s3_secret_access_key": SECRET,
    }


def test_entries_files_and_diffs_read_the_zip_through_the_s3_store(api, run_jobs):
    world = api.world()
    big = bytes(range(256)) * 400
    first = uploaded_package(
        api, world.app["guid"], zip_entries([regular("a.txt", b"one"), regular("big.bin", big)]), run_jobs
    )
    second = uploaded_package(
        api, world.app["guid"], zip_entries([regular("a.txt", b"two"), regular("big.bin", big)]), run_jobs
    )
    listed = api.ok("GET", f"/x/packages/{first['guid']}/entries", 200)["resources"]
    assert [(e["path"], e["size"]) for e in listed] == [("a.txt", 3), ("big.bin", len(big))]
    r = api.client.get(
        f"/x/packages/{first['guid']}/entries/big.bin", headers={**api.admin, "Range": "bytes=1000-1999"}
    )
    assert (r.status_code, r.content) == (206, big[1000:2000])
    assert api.client.get(f"/x/packages/{second['guid']}/entries/a.txt", headers=api.admin).content == b"two"
    diff = api.ok("GET", f"/x/packages/{second['guid']}/diff?against={first['guid']}", 200)
    assert [c["path"] for c in diff["changed"]] == ["a.txt"] and diff["summary"]["unchanged"] == 1

def test_root_document_links_v3_with_version(client):
    r = client.get("/")
    assert r.status_code == 200
    links = r.json()["links"]
    assert links["cloud_controller_v3"] == {"href": "http://api.test/v3", "meta": {"version": "3.195.0"}}
    assert links["login"] == {"href": "http://api.test"}


def test_admin_creates_world_and_bits_package(api):
    world = api.world()
    pkg = api.create_package(world.app["guid"])
    assert pkg["state"] == "AWAITING_UPLOAD"
    assert list(pkg) == [
        "guid",
        "created_at",
        "updated_at",
        "type",
        "data",
        "state",
        "relationships",
        "metadata",
        "links",
    ]


def test_responses_carry_the_request_id_given_or_a_new_one(client):
    given = client.get("/", headers={"X-VCAP-Request-ID": "abc-123"})
    assert given.headers["x-vcap-request-id"] == "abc-123"
    assert len(client.get("/v3/nothing").headers["x-vcap-request-id"]) == 36


def test_a_json_body_over_15_mib_is_refused_with_413(api):
    r = api.client.post("/v3/packages", headers=api.admin, content=b"[" + b"1," * (8 * 1024 * 1024) + b"1]")
    assert r.status_code == 413
    assert r.json()["errors"][0]["title"] == "CF-RequestEntityTooLarge"


def test_head_answers_like_get_without_a_body(api):
    r = api.client.head("/v3/packages", headers=api.admin)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert api.client.head("/v3/packages").status_code == 401

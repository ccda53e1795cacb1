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
    assert list(pkg) == ["guid", "created_at", "updated_at", "type", "data", "state", "relationships", "metadata", "links"]

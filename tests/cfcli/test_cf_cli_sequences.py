"""The cf CLI 8.6.1's request sequences (shared/reference/cf-cli-wire), replayed against the app.

Headers and bodies are the CLI's; each answer is checked for the fields the CLI reads.
"""

from __future__ import annotations

import hashlib
import json

from tests.factories import assert_error, bearer, make_zip

CLI_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/json",
    "User-Agent": "cf/8.6.1+b5a352a68.2023-02-27 (go1.19.8; amd64 linux)",
}
PUSH_MANIFEST = b"applications:\n- name: newapp\n  path: /tmp/app\n  default-route: true\n"


def login(api, username="alice", password="s3cret", admin=True):
    from capi_packages.login.service import add_user

    with api.app.state.sessionmaker() as session:
        add_user(session, username, password, admin=admin)
        session.commit()
    r = api.client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": username, "password": password},
        headers={"Authorization": "Basic Y2Y6"},
    )
    assert r.status_code == 200, r.text
    return {**CLI_HEADERS, **bearer(r.json()["access_token"])}


def cli(api, auth, method, path, status, body=None, **kw):
    content = json.dumps(body, indent=2).encode() if body is not None else kw.pop("content", None)
    r = api.client.request(method, path, headers=kw.pop("headers", auth), content=content, **kw)
    assert r.status_code == status, (method, path, r.status_code, r.text)
    return r


def poll_job(api, headers, location, run_jobs):
    run_jobs()
    job = cli(api, headers, "GET", location, 200).json()
    assert job["state"] in ("COMPLETE", "FAILED")
    return job


def test_create_space_gives_the_creator_roles_by_username_and_origin(api):
    alice = login(api)
    org = cli(api, alice, "POST", "/v3/organizations", 201, {"name": "o1"}).json()
    org_guid = cli(api, alice, "GET", "/v3/organizations?names=o1", 200).json()["resources"][0]["guid"]
    assert org_guid == org["guid"]
    space = cli(
        api,
        alice,
        "POST",
        "/v3/spaces",
        201,
        {"name": "s1", "relationships": {"organization": {"data": {"guid": org_guid}}}},
    ).json()
    by_name = {"origin": "uaa", "username": "alice"}
    role = cli(
        api,
        alice,
        "POST",
        "/v3/roles",
        201,
        {
            "relationships": {"organization": {"data": {"guid": org_guid}}, "user": {"data": by_name}},
            "type": "organization_user",
        },
    ).json()
    # The CLI asks for the org role again with every space role and ignores "already has".
    again = cli(
        api,
        alice,
        "POST",
        "/v3/roles",
        422,
        {
            "relationships": {"organization": {"data": {"guid": org_guid}}, "user": {"data": by_name}},
            "type": "organization_user",
        },
    )
    assert (
        again.json()["errors"][0]["detail"] == "User 'alice' already has 'organization_user' role in organization 'o1'."
    )
    for role_type in ("space_manager", "space_developer"):
        cli(
            api,
            alice,
            "POST",
            "/v3/roles",
            201,
            {
                "relationships": {"space": {"data": {"guid": space["guid"]}}, "user": {"data": by_name}},
                "type": role_type,
            },
        )
    user_guid = role["relationships"]["user"]["data"]["guid"]
    user = cli(api, alice, "GET", role["links"]["user"]["href"], 200).json()
    assert user["guid"] == user_guid and user["username"] == "alice" and user["origin"] == "uaa"
    listed = cli(api, alice, "GET", f"/v3/roles?space_guids={space['guid']}&include=user", 200).json()
    assert sorted(r["type"] for r in listed["resources"]) == ["space_developer", "space_manager"]
    assert [u["username"] for u in listed["included"]["users"]] == ["alice"]
    assert listed["included"]["users"][0]["presentation_name"] == "alice"


def _target(api, headers):
    org = cli(api, headers, "POST", "/v3/organizations", 201, {"name": "o1"}).json()
    space = cli(
        api,
        headers,
        "POST",
        "/v3/spaces",
        201,
        {"name": "s1", "relationships": {"organization": {"data": {"guid": org["guid"]}}}},
    ).json()
    return org, space


def _push_no_start(api, headers, run_jobs, space_guid, files, manifest=PUSH_MANIFEST):
    """cf push newapp --no-start -p DIR: apply_manifest, poll, app by name, match, package, upload, poll."""
    yaml_headers = {**headers, "Content-Type": "application/x-yaml"}
    r = cli(
        api,
        headers,
        "POST",
        f"/v3/spaces/{space_guid}/actions/apply_manifest",
        202,
        content=manifest,
        headers=yaml_headers,
    )
    job = poll_job(api, headers, r.headers["location"], run_jobs)
    assert job["state"] == "COMPLETE", job
    assert job["operation"] == "space.apply_manifest"
    app = cli(api, headers, "GET", f"/v3/apps?names=newapp&space_guids={space_guid}", 200).json()["resources"][0]
    resources = [
        {
            "checksum": {"value": hashlib.sha1(content).hexdigest()},
            "mode": "644",
            "path": path,
            "size_in_bytes": len(content),
        }
        for path, content in sorted(files.items())
    ]
    matched = cli(api, headers, "POST", "/v3/resource_matches", 201, {"resources": resources}).json()["resources"]
    pkg = cli(
        api,
        headers,
        "POST",
        "/v3/packages",
        201,
        {"relationships": {"app": {"data": {"guid": app["guid"]}}}, "type": "bits"},
    ).json()
    matched_paths = {m["path"] for m in matched}
    upload = {p: c for p, c in files.items() if p not in matched_paths}
    form = {"resources": json.dumps(matched)}
    up_headers = {k: v for k, v in headers.items() if k != "Content-Type"}
    multipart = {"bits": ("package.zip", make_zip(upload), "application/zip")} if upload else None
    cli(api, headers, "POST", f"/v3/packages/{pkg['guid']}/upload", 200, data=form, files=multipart, headers=up_headers)
    run_jobs()
    assert cli(api, headers, "GET", f"/v3/packages/{pkg['guid']}", 200).json()["state"] == "READY"
    return app, pkg, matched_paths


def _summary(api, headers, app):
    """What the push and `cf app` summary read."""
    processes = cli(api, headers, "GET", f"/v3/apps/{app['guid']}/processes", 200).json()["resources"]
    assert [p["type"] for p in processes] == ["web"]
    web = processes[0]
    assert web["instances"] == 1 and web["memory_in_mb"] == 1024 and web["disk_in_mb"] == 1024
    assert web["health_check"] == {
        "type": "port",
        "data": {"timeout": None, "invocation_timeout": None, "interval": None},
    }
    sidecars = cli(api, headers, "GET", f"/v3/processes/{web['guid']}/sidecars", 200).json()
    assert sidecars["resources"] == []
    stats = cli(api, headers, "GET", f"/v3/processes/{web['guid']}/stats", 200).json()
    assert stats == {
        "resources": [
            {
                "type": "web",
                "index": 0,
                "state": "DOWN",
                "routable": None,
                "uptime": 0,
                "isolation_segment": None,
                "details": None,
            }
        ]
    }
    assert cli(api, headers, "GET", f"/v3/apps/{app['guid']}/routes", 200).json()["resources"] == []
    r = cli(api, headers, "GET", f"/v3/apps/{app['guid']}/droplets/current", 404)
    assert_error(r, 404, 10010, "CF-ResourceNotFound", "Droplet not found")
    return web


def test_push_no_start_twice_uploads_only_the_changed_file(api, run_jobs):
    alice = login(api)
    _, space = _target(api, alice)
    big = b"x" * 70000
    app, _, matched = _push_no_start(api, alice, run_jobs, space["guid"], {"blob.bin": big, "index.html": b"hi\n"})
    assert matched == set()
    assert app["name"] == "newapp" and app["state"] == "STOPPED"
    assert app["lifecycle"] == {"type": "buildpack", "data": {"buildpacks": [], "stack": "cflinuxfs4"}}
    _summary(api, alice, app)
    again, pkg, matched = _push_no_start(api, alice, run_jobs, space["guid"], {"blob.bin": big, "index.html": b"hey\n"})
    assert again["guid"] == app["guid"]
    assert matched == {"blob.bin"}
    packages = cli(api, alice, "GET", f"/v3/packages?app_guids={app['guid']}&order_by=-created_at", 200).json()
    assert packages["resources"][0]["guid"] == pkg["guid"] and len(packages["resources"]) == 2


def test_push_with_a_manifest_sets_processes_env_lifecycle_and_labels(api, run_jobs):
    alice = login(api)
    _, space = _target(api, alice)
    manifest = b"""---
applications:
- name: newapp
  memory: 256M
  disk_quota: 2G
  instances: 2
  buildpacks: [python_buildpack]
  stack: cflinuxfs4
  command: python app.py
  health-check-type: http
  health-check-http-endpoint: /health
  env:
    MODE: prod
    COUNT: 3
  metadata:
    labels: {team: a}
  processes:
  - type: worker
    command: python worker.py
    instances: 1
    memory: 128M
  routes:
  - route: newapp.example.com
"""
    yaml_headers = {**alice, "Content-Type": "application/x-yaml"}
    diff = cli(
        api, alice, "POST", f"/v3/spaces/{space['guid']}/manifest_diff", 201, content=manifest, headers=yaml_headers
    )
    assert {"op": "add", "path": "/applications/0/name", "was": None, "value": "newapp"} in diff.json()["diff"]
    app, _, _ = _push_no_start(api, alice, run_jobs, space["guid"], {"app.py": b"print(1)\n"}, manifest=manifest)
    assert app["lifecycle"]["data"] == {"buildpacks": ["python_buildpack"], "stack": "cflinuxfs4"}
    assert app["metadata"]["labels"] == {"team": "a"}
    procs = {
        p["type"]: p for p in cli(api, alice, "GET", f"/v3/processes?app_guids={app['guid']}", 200).json()["resources"]
    }
    # The top-level keys describe web only when `processes` does not name web.
    assert procs["web"]["instances"] == 2 and procs["web"]["memory_in_mb"] == 256 and procs["web"]["disk_in_mb"] == 2048
    assert procs["web"]["health_check"]["type"] == "http"
    assert procs["web"]["health_check"]["data"]["endpoint"] == "/health"
    assert procs["web"]["command"] == "[PRIVATE DATA HIDDEN IN LISTS]"
    assert procs["worker"]["instances"] == 1 and procs["worker"]["memory_in_mb"] == 128
    web = cli(api, alice, "GET", f"/v3/processes/{procs['web']['guid']}", 200).json()
    assert web["command"] == "python app.py"
    env = cli(api, alice, "GET", f"/v3/apps/{app['guid']}/env", 200).json()
    assert env["environment_variables"] == {"MODE": "prod", "COUNT": "3"}
    assert env["application_env_json"]["VCAP_APPLICATION"]["application_name"] == "newapp"
    again = cli(
        api, alice, "POST", f"/v3/spaces/{space['guid']}/manifest_diff", 201, content=manifest, headers=yaml_headers
    )
    assert [op for op in again.json()["diff"] if op["path"].endswith("/name")] == []
    text = cli(api, alice, "GET", f"/v3/apps/{app['guid']}/manifest", 200).text
    assert "name: newapp" in text and "python_buildpack" in text


def test_push_without_no_start_stops_at_staging_with_a_clear_message(api, run_jobs):
    alice = login(api)
    _, space = _target(api, alice)
    _, pkg, _ = _push_no_start(api, alice, run_jobs, space["guid"], {"index.html": b"hi\n"})
    r = cli(api, alice, "POST", "/v3/builds", 422, {"package": {"guid": pkg["guid"]}})
    assert r.json()["errors"][0]["title"] == "CF-UnprocessableEntity"
    assert "does not stage" in r.json()["errors"][0]["detail"]


def test_rename_label_and_delete_an_app(api, run_jobs):
    alice = login(api)
    _, space = _target(api, alice)
    app = cli(
        api,
        alice,
        "POST",
        "/v3/apps",
        201,
        {"name": "a1", "relationships": {"space": {"data": {"guid": space["guid"]}}}},
    ).json()
    renamed = cli(api, alice, "PATCH", f"/v3/apps/{app['guid']}", 200, {"name": "a2"}).json()
    assert renamed["name"] == "a2"
    labelled = cli(
        api, alice, "PATCH", f"/v3/apps/{app['guid']}", 200, {"metadata": {"labels": {"env": "prod"}}}
    ).json()
    assert labelled["metadata"]["labels"] == {"env": "prod"}
    shown = cli(api, alice, "GET", f"/v3/apps?names=a2&space_guids={space['guid']}", 200).json()["resources"][0]
    assert shown["metadata"]["labels"] == {"env": "prod"}
    cli(
        api,
        alice,
        "POST",
        "/v3/apps",
        201,
        {"name": "a3", "relationships": {"space": {"data": {"guid": space["guid"]}}}},
    )
    taken = cli(api, alice, "PATCH", f"/v3/apps/{app['guid']}", 422, {"name": "a3"})
    assert_error(taken, 422, 10008, "CF-UnprocessableEntity", "App with the name 'a3' already exists.")
    r = cli(api, alice, "DELETE", f"/v3/apps/{app['guid']}", 202)
    assert poll_job(api, alice, r.headers["location"], run_jobs)["state"] == "COMPLETE"
    cli(api, alice, "GET", f"/v3/processes/{app['guid']}", 404)

"""The 5 documented asset-folder endpoints (plural search, singular item, update by POST)."""

from __future__ import annotations

from tests.sandbox.helpers import assert_problem


def test_folder_lifecycle(small_sandbox):
    _, client = small_sandbox()
    created = client.post("/v1/folder/", json={"name": "Lookbook", "attributes": {"season": "winter"}})
    assert created.status_code == 201 and set(created.json()) == {"folderId", "version"}
    parent = created.json()["folderId"]
    child = client.post("/v1/folder", json={"name": "Shots", "parentId": parent}).json()["folderId"]
    folder = client.get(f"/v1/folder/{parent}").json()
    assert folder == {
        "folderId": parent,
        "version": created.json()["version"],
        "name": "Lookbook",
        "parentId": None,
        "attributes": {"season": "winter"},
    }
    renamed = client.post(f"/v1/folder/{child}", json={"name": "Photos"})
    assert renamed.status_code == 200 and renamed.json()["folderId"] == child
    assert client.get("/v1/folders", params={"Name": "photos"}).json()["result"][0]["parentId"] == parent
    assert_problem(client.post(f"/v1/folder/{parent}", json={"parentId": child}), 400, detail_contains="cycle")
    assert_problem(client.post(f"/v1/folder/{child}", json={"name": "x", "version": "1"}), 409)
    assert_problem(client.delete(f"/v1/folder/{parent}"), 409, detail_contains="sub-folders")
    deleted = client.delete(f"/v1/folder/{child}")
    assert deleted.status_code == 200 and deleted.content == b""
    assert client.delete(f"/v1/folder/{parent}").status_code == 200
    for response in (
        client.get(f"/v1/folder/{parent}"),
        client.post(f"/v1/folder/{parent}", json={"name": "x"}),
        client.delete(f"/v1/folder/{parent}"),
    ):
        assert_problem(response, 404)
    assert_problem(client.post("/v1/folder/", json={"parentId": None}), 400, detail_contains="name")
    assert_problem(client.post("/v1/folder/", json={"name": "x", "parentId": "missing"}), 400, detail_contains="exist")

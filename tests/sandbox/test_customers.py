"""The 9 documented customer endpoints (addresses and phones included)."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import assert_problem


@pytest.fixture
def client(small_sandbox):
    return small_sandbox()[1]


def _new(client, **fields):
    body = {"firstName": "Ada", "lastName": "Lovelace", "emailAddress": "ada@example.com", **fields}
    response = client.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_get_update_delete(client):
    created = _new(client, attributes={"tier": "gold"})
    assert set(created) == {"customerId", "version"}
    cid = created["customerId"]
    customer = client.get(f"/v1/customers/{cid}").json()
    assert customer["displayName"] == "Ada Lovelace" and customer["phones"] == [] and customer["addresses"] == []
    updated = client.put(f"/v1/customers/{cid}", json={"lastName": "King", "version": created["version"]})
    assert updated.status_code == 201  # as documented for this PUT
    assert updated.json()["version"] != created["version"]
    customer = client.get(f"/v1/customers/{cid}").json()
    assert (customer["firstName"], customer["lastName"], customer["attributes"]) == ("Ada", "King", {"tier": "gold"})
    assert_problem(client.put(f"/v1/customers/{cid}", json={"lastName": "X", "version": created["version"]}), 409)
    deleted = client.delete(f"/v1/customers/{cid}")
    assert deleted.status_code == 200 and deleted.content == b""
    assert_problem(client.get(f"/v1/customers/{cid}"), 404)
    assert_problem(client.delete(f"/v1/customers/{cid}"), 404)


def test_email_is_unique_case_insensitively(client):
    first = _new(client)
    assert_problem(client.post("/v1/customers", json={"emailAddress": "ADA@example.com"}), 409, detail_contains="email")
    other = _new(client, emailAddress="grace@example.com")["customerId"]
    assert_problem(client.put(f"/v1/customers/{other}", json={"emailAddress": "Ada@Example.com"}), 409)
    assert (
        client.put(f"/v1/customers/{first['customerId']}", json={"emailAddress": "ADA@example.com"}).status_code == 201
    )
    client.delete(f"/v1/customers/{first['customerId']}")
    _new(client)  # a deleted customer's email is free again


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"firstName": "NoEmail"}, "emailAddress"),
        ({"emailAddress": "not-an-email"}, "emailAddress"),
        ({"emailAddress": 42}, "emailAddress"),
        ({"emailAddress": "a@b.c", "nickname": "x"}, "nickname"),
        ({"emailAddress": "a@b.c", "attributes": []}, "attributes"),
    ],
)
def test_invalid_customer_bodies(client, body, words):
    assert_problem(client.post("/v1/customers", json=body), 400, detail_contains=words)


def test_addresses(client):
    cid = _new(client)["customerId"]
    address = {"address1": "1 George St", "suburb": "Sydney", "postcode": "2000", "state": "NSW", "country": "AU"}
    added = client.post(f"/v1/customers/{cid}/addresses", json=address)
    assert added.status_code == 200
    assert added.json()["totalAddressesAttached"] == 1 and set(added.json()) == {
        "customerId",
        "version",
        "totalAddressesAttached",
    }
    client.post(f"/v1/customers/{cid}/addresses", json={**address, "address1": "2 King St"})
    keys = [a["key"] for a in client.get(f"/v1/customers/{cid}").json()["addresses"]]
    version = client.get(f"/v1/customers/{cid}").json()["version"]
    assert_problem(client.delete(f"/v1/customers/{cid}/addresses", params={"Version": "0"}, json={"keys": keys}), 409)
    removed = client.delete(f"/v1/customers/{cid}/addresses", params={"Version": version}, json={"keys": [keys[0]]})
    assert removed.status_code == 200
    body = removed.json()
    assert [a["address1"] for a in body["addressesRemoved"]] == ["1 George St"]
    assert body["totalAddressesAttached"] == 1 and body["version"] != version
    assert_problem(client.post(f"/v1/customers/{cid}/addresses", json={"suburb": "x"}), 400, detail_contains="address1")
    assert_problem(client.post("/v1/customers/missing/addresses", json=address), 404)


def test_phones(client):
    cid = _new(client)["customerId"]
    added = client.post(
        f"/v1/customers/{cid}/phones", json={"type": "Mobile", "country": "AU", "numberLocal": "0412 345 678"}
    )
    assert added.status_code == 200 and added.json()["totalPhonesAttached"] == 1
    phone = client.get(f"/v1/customers/{cid}").json()["phones"][0]
    assert phone["numberInternational"] == "+61 412 345 678" and phone["type"] == "Mobile"
    assert_problem(client.post(f"/v1/customers/{cid}/phones", json={"type": "Pager", "numberLocal": "1"}), 400)
    assert_problem(
        client.post(f"/v1/customers/{cid}/phones", json={"type": "Phone"}), 400, detail_contains="numberLocal"
    )
    removed = client.delete(f"/v1/customers/{cid}/phones", json={"keys": [phone["key"], "unknown-key"]})
    assert removed.status_code == 200
    assert removed.json()["phonesRemoved"] == [phone] and removed.json()["totalPhonesAttached"] == 0
    assert_problem(client.delete(f"/v1/customers/{cid}/phones", json={"keys": "not-a-list"}), 400)

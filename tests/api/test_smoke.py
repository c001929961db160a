from __future__ import annotations

from tests.support.api_client import ApiClient


def test_create_and_get_connection(client: ApiClient) -> None:
    created = client.post(
        "/integrations/connections",
        {
            "providerId": "prov-github",
            "displayName": "GH",
            "credentials": {"token": "ghp_secret"},
            "configuration": {"baseUrl": "http://127.0.0.1:9999"},
        },
    )
    assert created.status == 201, created.body
    got = client.get(f"/integrations/connections/{created.json['connectionId']}")
    assert got.status == 200, got.body
    assert got.json["credentialRef"].startswith("kv://connections/")
    assert client.get("/nope").status == 404
    print(got.json, client.get("/nope").json)

"""The API Gateway document store on every backend: HTTP and REST APIs kept apart, found
by id in any region (serving), replaced whole, deleted."""

from __future__ import annotations

from headwater.store.api_documents import HttpApiStore, RestApiStore
from headwater.store.database import Database


def test_documents_round_trip_and_kinds_stay_apart(db: Database) -> None:
    http = HttpApiStore(db)
    rest = RestApiStore(db)
    http.put("000000000000", "us-east-1", "a1", {"Api": {"ApiId": "a1"}, "Routes": {}})
    rest.put("000000000000", "eu-west-1", "r1", {"Api": {"id": "r1"}})
    assert http.get("000000000000", "us-east-1", "a1") == {"Api": {"ApiId": "a1"}, "Routes": {}}
    assert http.get("000000000000", "eu-west-1", "a1") is None
    assert rest.get("000000000000", "us-east-1", "a1") is None
    assert rest.find("r1") == ("eu-west-1", {"Api": {"id": "r1"}})
    assert http.find("r1") is None
    http.put("000000000000", "us-east-1", "a1", {"Api": {"ApiId": "a1", "Name": "x"}})
    assert [d["Api"].get("Name") for d in http.all("000000000000", "us-east-1")] == ["x"]
    assert http.delete("000000000000", "us-east-1", "a1") is True
    assert http.delete("000000000000", "us-east-1", "a1") is False
    assert http.all("000000000000", "us-east-1") == []

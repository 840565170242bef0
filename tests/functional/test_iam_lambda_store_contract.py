"""The IAM and Lambda resource stores on every backend (memory, SQLite, PostgreSQL when
installed): one portable SQL, the same answers, and a failed transaction changes nothing."""

from __future__ import annotations

import pytest

from headwater.store.database import Database
from headwater.store.functions import FunctionRecord
from headwater.store.iam import AccessKey, Entity, IamStore, Session
from headwater.store.lambda_resources import LambdaResourceStore


def function(name: str = "f", revision: str = "r1") -> FunctionRecord:
    return FunctionRecord(
        name=name,
        runtime="python3.12",
        handler="app.handler",
        role="arn:aws:iam::000000000000:role/r",
        code_dir="/tmp/code",
        code_sha256="sha",
        code_size=10,
        code_source="zip",
        timeout=3,
        memory_size=128,
        environment={"A1": "b"},
        description="",
        reserved_concurrency=None,
        last_modified=1.0,
        revision_id=revision,
        extra={"Tags": {"k": "v"}},
        region="us-east-1",
    )


def test_iam_store(db: Database) -> None:
    store = db.store(IamStore)
    role = Entity("role", "App", "AROA1", "/", 1.0, {"AssumeRolePolicyDocument": "{}"})
    assert store.insert("acct", role)
    assert not store.insert("acct", Entity("role", "app", "AROA2", "/", 2.0))  # same, any case
    assert store.get("acct", "role", "APP") == role
    assert store.get("other", "role", "app") is None
    store.put_inline("acct", role, "p", '{"a": 1}')
    store.put_inline("acct", role, "p", '{"a": 2}')
    assert store.get_inline("acct", role, "p") == '{"a": 2}'
    store.attach("acct", role, "arn:aws:iam::aws:policy/X")
    store.attach("acct", role, "arn:aws:iam::aws:policy/X")
    assert store.attached("acct", role) == ["arn:aws:iam::aws:policy/X"]
    assert store.attachments_of("acct", "arn:aws:iam::aws:policy/X") == [("role", "app")]
    store.put_version("acct", "pol", "v1", "{}", 1.0)
    store.put_version("acct", "pol", "v10", "{}", 2.0)
    store.put_version("acct", "pol", "v2", "{}", 3.0)
    assert [v for v, _, _ in store.versions("acct", "pol")] == ["v10", "v2", "v1"]
    assert store.link("acct", "group-member", "g", "app")
    assert not store.link("acct", "group-member", "g", "app")
    assert store.parents("acct", "group-member", "app") == ["g"]
    store.add_access_key("acct", AccessKey("AKIA1", "app", "s", "Active", 1.0))
    assert store.access_key("AKIA1") == ("acct", AccessKey("AKIA1", "app", "s", "Active", 1.0))
    store.add_session(Session("ASIA1", "acct", 10.0, {"Arn": "x"}))
    assert store.expire_sessions(5.0) == 0
    assert store.session("ASIA1") == Session("ASIA1", "acct", 10.0, {"Arn": "x"})
    assert store.expire_sessions(11.0) == 1
    with pytest.raises(RuntimeError), store.transaction():
        store.delete("acct", "role", "app")
        raise RuntimeError("rolled back")
    assert store.entities("acct", "role") == [role]


def test_lambda_resource_store(db: Database) -> None:
    store = db.store(LambdaResourceStore)
    assert [store.next_number("us-east-1", "function", "f") for _ in range(3)] == [1, 2, 3]
    assert store.next_number("us-east-1", "layer", "f") == 1
    record = function()
    store.add_version(1, record)
    store.add_version(2, function(revision="r2"))
    assert store.version("us-east-1", "f", 1) == record
    assert [n for n, _ in store.versions("us-east-1", "f")] == [1, 2]
    assert store.latest_version("us-east-1", "f") == (2, function(revision="r2"))
    body = {"Name": "live", "FunctionVersion": "1", "RevisionId": "a"}
    assert store.put_alias("us-east-1", "f", "live", body, create=True)
    assert not store.put_alias("us-east-1", "f", "live", body, create=True)
    store.put_setting("us-east-1", "f", "live", "policy", {"Statements": []})
    store.put_setting("us-east-1", "f", "1", "policy", {"Statements": [1]})
    assert store.settings("us-east-1", "f", "policy") == [
        ("1", {"Statements": [1]}),
        ("live", {"Statements": []}),
    ]
    store.delete_version("us-east-1", "f", 1)  # its settings go with it
    assert store.setting("us-east-1", "f", "1", "policy") is None
    store.add_layer_version("us-east-1", "lib", 1, {"Version": 1})
    store.add_layer_version("us-east-1", "lib", 2, {"Version": 2})
    assert store.layer_versions("us-east-1", "lib") == [{"Version": 2}, {"Version": 1}]
    store.forget_function("us-east-1", "f")
    assert store.versions("us-east-1", "f") == []
    assert store.aliases("us-east-1", "f") == []
    assert store.next_number("us-east-1", "function", "f") == 1  # numbering starts again

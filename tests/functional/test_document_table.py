"""The keyed JSON document table (store/documents.py) on every backend, and data directories
written by the stores' own SQL before they moved onto it (SSM, CodeDeploy, SES, API Gateway):
the same tables, read and written as before."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from headwater import Headwater, ManualClock
from headwater.services.codedeploy.store import APPLICATION, CodeDeployStore
from headwater.services.secretsmanager.store import SecretStore
from headwater.services.ses.store import TEMPLATE, SesStore
from headwater.store.api_documents import RestApiStore
from headwater.store.database import Database, open_database
from headwater.store.documents import DocumentTable, document_table_sql

KEY = ("account", "region", "kind", "name")
HERE = ("000000000000", "us-east-1")


def table(db: Database) -> DocumentTable:
    db.migrate("document-table-test", [document_table_sql("test_documents", KEY)])
    return DocumentTable(db, "test_documents", KEY)


def test_documents_round_trip_by_key_and_prefix(db: Database) -> None:
    docs = table(db)
    docs.put((*HERE, "a", "2"), {"n": 2})
    docs.put((*HERE, "a", "1"), {"n": 1})
    docs.put((*HERE, "b", "1"), {"n": 3})
    docs.put(("111111111111", "us-east-1", "a", "1"), {"n": 4})
    assert docs.get((*HERE, "a", "1")) == {"n": 1}
    assert docs.get((*HERE, "a", "3")) is None
    assert docs.all((*HERE, "a")) == [{"n": 1}, {"n": 2}]
    assert docs.all(HERE) == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert docs.keys((*HERE, "a")) == [("1",), ("2",)]
    assert docs.keys(HERE) == [("a", "1"), ("a", "2"), ("b", "1")]
    docs.put((*HERE, "a", "1"), {"n": 10})
    assert docs.get((*HERE, "a", "1")) == {"n": 10}
    assert docs.insert((*HERE, "a", "1"), {"n": 0}) is False
    assert docs.get((*HERE, "a", "1")) == {"n": 10}
    assert docs.insert((*HERE, "c", "1"), {"n": 5}) is True
    assert docs.delete((*HERE, "c", "1")) is True
    assert docs.delete((*HERE, "c", "1")) is False
    with pytest.raises(ValueError, match="a key is"):
        docs.get((*HERE, "a"))


def test_update_changes_or_removes_under_the_row_lock(db: Database) -> None:
    docs = table(db)
    docs.put((*HERE, "a", "1"), {"n": 1})

    def bump(body: dict[str, Any] | None) -> dict[str, Any] | None:
        return {"n": (body or {"n": 0})["n"] + 1}

    assert docs.update((*HERE, "a", "1"), bump) == {"n": 2}
    assert docs.update((*HERE, "a", "new"), bump) == {"n": 1}
    assert docs.update((*HERE, "a", "1"), lambda _: None) is None
    assert docs.all((*HERE, "a")) == [{"n": 1}]

    def fails(_: object) -> None:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        docs.update((*HERE, "a", "new"), fails)
    assert docs.get((*HERE, "a", "new")) == {"n": 1}


def test_derived_columns_follow_every_write(db: Database) -> None:
    db.migrate(
        "document-table-test",
        ["CREATE TABLE test_dated (account TEXT NOT NULL, region TEXT NOT NULL, "
         "name TEXT NOT NULL, ends REAL, body BLOB NOT NULL, "
         "PRIMARY KEY (account, region, name))"],
    )  # fmt: skip
    docs = DocumentTable(
        db, "test_dated", ("account", "region", "name"), {"ends": lambda b: b.get("ends")}
    )

    def ends() -> list[tuple[str, float | None]]:
        with db.read():
            rows = db.conn.execute("SELECT name, ends FROM test_dated ORDER BY name").fetchall()
        return [(str(name), end) for name, end in rows]

    docs.put((*HERE, "a"), {"ends": 5.0})
    docs.insert((*HERE, "b"), {})
    assert ends() == [("a", 5.0), ("b", None)]
    docs.put((*HERE, "a"), {})
    docs.update((*HERE, "b"), lambda _: {"ends": 7.5})
    assert ends() == [("a", None), ("b", 7.5)]


# The tables exactly as the stores created them before the move (their first migration).
OLD_TABLES = {
    "ssm": """
    CREATE TABLE ssm_parameters (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, name)
    )""",
    "codedeploy": """
    CREATE TABLE codedeploy_documents (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, kind, name)
    )""",
    "secretsmanager": """
    CREATE TABLE secretsmanager_secrets (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        deletion_date REAL,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, name)
    )""",
    "events": """
    CREATE TABLE events_buses (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, name)
    );
    CREATE TABLE events_rules (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        bus TEXT NOT NULL,
        name TEXT NOT NULL,
        body BLOB NOT NULL,
        next_fire REAL,
        PRIMARY KEY (account, region, bus, name)
    );
    CREATE INDEX events_rules_due ON events_rules(next_fire)""",
    "apigateway": """
    CREATE TABLE apigateway_rest_apis (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        api_id TEXT NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, api_id)
    )""",
}


def test_a_data_dir_written_before_the_move_reads_and_writes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    open_database(data).close()  # the data dir and its schema_version table
    parameter = {
        "name": "/old",
        "versions": [{"version": 1, "value": "v", "type": "String", "modified": 1.0}],
        "tags": {},
    }
    secret = {
        "name": "old",
        "arn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:old-AbCdEf",
        "created": 1.0,
        "last_changed": 1.0,
        "versions": [
            {
                "version_id": "v1",
                "created": 1.0,
                "secret_string": "s",
                "secret_binary": None,
                "stages": ["AWSCURRENT"],
            }
        ],
    }
    with sqlite3.connect(data / "headwater.sqlite3") as conn:
        for component, create in OLD_TABLES.items():
            conn.executescript(create) if ";" in create else conn.execute(create)
            conn.execute(
                "INSERT INTO schema_version(component, version) VALUES (?, 1)", (component,)
            )
        conn.execute(
            "INSERT INTO ssm_parameters VALUES (?, ?, ?, ?)",
            (*HERE, "/old", orjson.dumps(parameter)),
        )
        conn.execute(
            "INSERT INTO codedeploy_documents VALUES (?, ?, ?, ?, ?)",
            (*HERE, APPLICATION, "app", orjson.dumps({"applicationName": "app"})),
        )
        conn.execute(
            "INSERT INTO secretsmanager_secrets VALUES (?, ?, ?, ?, ?)",
            (*HERE, "old", None, orjson.dumps(secret)),
        )
        bus = {"name": "old", "arn": "arn:aws:events:us-east-1:000000000000:event-bus/old"}
        conn.execute(
            "INSERT INTO events_buses VALUES (?, ?, ?, ?)",
            (*HERE, "old", orjson.dumps({**bus, "created": 1.0, "modified": 1.0, "tags": {}})),
        )
        conn.execute(
            "INSERT INTO apigateway_rest_apis VALUES (?, ?, ?, ?)",
            (*HERE, "r1", orjson.dumps({"Api": {"id": "r1"}})),
        )
    with Headwater(data_dir=data, clock=ManualClock()) as hw:
        ssm = hw.client("ssm")
        assert ssm.get_parameter(Name="/old")["Parameter"]["Value"] == "v"
        ssm.put_parameter(Name="/old", Value="w", Overwrite=True)
        assert ssm.get_parameter(Name="/old")["Parameter"]["Version"] == 2
        sm = hw.client("secretsmanager")
        assert sm.get_secret_value(SecretId="old")["SecretString"] == "s"
        sm.delete_secret(SecretId="old", RecoveryWindowInDays=7)
        with hw.database.read():  # the deletion date is in its column, for the sweep
            row = hw.database.conn.execute(
                "SELECT deletion_date FROM secretsmanager_secrets WHERE name = 'old'"
            ).fetchone()
        assert row[0] is not None
        secrets = SecretStore(hw.database)
        assert secrets.purge_deleted(row[0]) == 1
        assert secrets.get(*HERE, "old") is None
        events = hw.client("events")
        assert events.describe_event_bus(Name="old")["Arn"] == bus["arn"]
        assert events.create_event_bus(Name="new")["EventBusArn"].endswith("event-bus/new")
        codedeploy = hw.client("codedeploy")
        assert codedeploy.list_applications()["applications"] == ["app"]
    database = open_database(data)
    try:
        assert CodeDeployStore(database).get(*HERE, APPLICATION, "app") == {
            "applicationName": "app"
        }
        assert RestApiStore(database).find("r1") == ("us-east-1", {"Api": {"id": "r1"}})
        ses = SesStore(database)
        ses.put(*HERE, TEMPLATE, "t", {"TemplateName": "t"})
        assert ses.all(*HERE, TEMPLATE) == [{"TemplateName": "t"}]
    finally:
        database.close()

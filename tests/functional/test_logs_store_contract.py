"""The CloudWatch Logs event store on every backend: appends larger than one INSERT page keep
every event in order, and trimming reads only as far as it cuts (a page at a time) while
freeing exactly the oldest events."""

from __future__ import annotations

from headwater.services.logs import store as logs_store
from headwater.services.logs.store import LogGroup, LogStore
from headwater.store.database import Database


def _group(store: LogStore) -> LogGroup:
    store.insert_group(LogGroup("000000000000", "us-east-1", "/aws/lambda/f", 1))
    group = store.get_group("000000000000", "us-east-1", "/aws/lambda/f")
    assert group is not None
    return group


def test_append_more_events_than_one_insert_page(db: Database) -> None:
    store = LogStore(db)
    group = _group(store)
    store.insert_stream(group, "s", 1)
    count = logs_store.INSERT_PAGE * 2 + 7
    events = [(1000 + i, f"line {i} é\n") for i in range(count)]
    size = store.append(group, "s", events, 5000)
    # CloudWatch counts UTF-8 bytes plus 26 per event ("é" is two bytes)
    assert size == sum(len(message.encode()) + 26 for _, message in events)
    stored = store.events(group)
    assert [(e.timestamp, e.message) for e in stored] == events
    seqs = [e.seq for e in stored]
    assert seqs == list(range(seqs[0], seqs[0] + count))
    more = store.append(group, "s", [(9999, "last\n")], 6000)
    assert store.events(group)[-1].seq == seqs[-1] + 1
    (stream,) = store.streams(group)
    assert (stream.first_event, stream.last_event, stream.stored_bytes) == (
        1000,
        9999,
        size + more,
    )
    fresh = store.get_group(group.account, group.region, group.name)
    assert fresh is not None and fresh.stored_bytes == size + more


def test_trim_spanning_several_pages_drops_the_oldest(db: Database) -> None:
    store = LogStore(db)
    group = _group(store)
    store.insert_stream(group, "s", 1)
    count = logs_store.TRIM_PAGE * 3
    events = [(i, f"event {i:06d}\n") for i in range(count)]  # 13 chars + 26 = 39 bytes each
    store.append(group, "s", events, 1)
    fresh = store.get_group(group.account, group.region, group.name)
    assert fresh is not None and fresh.stored_bytes == 39 * count
    keep = 39 * 1000
    # cuts down to half of what it may keep: the oldest events up to 39 * (count - 500)
    assert store.trim(fresh, keep) == 39 * (count - 500)
    left = store.events(fresh)
    assert [e.message for e in left] == [message for _, message in events[count - 500 :]]
    assert fresh.stored_bytes == 39 * 500
    again = store.get_group(group.account, group.region, group.name)
    assert again is not None and again.stored_bytes == 39 * 500
    assert store.trim(again, keep) == 0

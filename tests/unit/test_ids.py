import uuid

from headwater.core.ids import new_uuid, request_id


def test_new_uuid_is_a_distinct_version_4_uuid() -> None:
    ids = [new_uuid() for _ in range(2000)] + [request_id() for _ in range(100)]
    assert len(set(ids)) == len(ids)
    for text in ids[:200]:
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text

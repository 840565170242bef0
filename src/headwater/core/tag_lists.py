"""Tags as the APIs carry them: ``[{Key, Value}]`` lists (Step Functions spells the members
``key``/``value``), read from requests whose model lets a member be left out, and written
from a mapping."""

from __future__ import annotations

from typing import Any

from headwater.core.errors import AwsError


def tag_pairs(tags: Any, *, key: str = "Key", value: str = "Value") -> list[tuple[str, str]]:
    """``tags`` as (key, value) pairs in their order: a tag without its key is refused as
    AWS's validation refuses a null member (the text a guess in its style); a missing value
    is an empty one."""
    pairs: list[tuple[str, str]] = []
    for number, tag in enumerate(tags or [], start=1):
        if tag.get(key) is None:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value null at 'tags.{number}.member.key' "
                "failed to satisfy constraint: Member must not be null",
            )
        pairs.append((str(tag[key]), str(tag.get(value, ""))))
    return pairs


def tag_list(
    tags: dict[str, str], *, key: str = "Key", value: str = "Value"
) -> list[dict[str, str]]:
    """A mapping of tags as the APIs' ``[{Key, Value}]`` list, in its order."""
    return [{key: name, value: text} for name, text in tags.items()]

"""CreateTable's member constraint pass: values shown as AWS shows them."""

from __future__ import annotations

from headwater.services.dynamodb.table_specs import create_table_violations


def test_a_key_schema_element_without_a_member_shows_null_as_java_prints_it() -> None:
    found = create_table_violations(
        {
            "TableName": "abc",
            "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
            "KeySchema": [
                {"AttributeName": "a", "KeyType": "HASH"},
                {"KeyType": "RANGE"},
                {"AttributeName": "c", "KeyType": "RANGE"},
            ],
        }
    )
    assert found[0] == (
        "Value '[KeySchemaElement(attributeName=a, keyType=HASH), "
        "KeySchemaElement(attributeName=null, keyType=RANGE), "
        "KeySchemaElement(attributeName=c, keyType=RANGE)]' at 'keySchema' failed to satisfy "
        "constraint: Member must have length less than or equal to 2"
    )

"""CreateTable / UpdateTable input checked as AWS checks it, and a table's stored spec.

The spec is the JSON document kept per table: the parts of ``TableDescription`` that do
not change by themselves (key schema, indexes, billing, stream, SSE, class, tags, TTL and
backup settings). ``describe`` turns it into AWS's ``TableDescription``.
"""

from __future__ import annotations

import re
from typing import Any

from headwater.core.errors import AwsError, length_rule
from headwater.core.expressions.values import invalid, validation
from headwater.core.values import JAVA_LONG

NAME_PATTERN = re.compile(r"[a-zA-Z0-9_.-]+")
ATTRIBUTE_TYPES = ("B", "N", "S")
PROJECTIONS = ("ALL", "INCLUDE", "KEYS_ONLY")
VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
KEY_ROLES = ("HASH", "RANGE")
BILLING_MODES = ("PROVISIONED", "PAY_PER_REQUEST")
SSE_TYPES = ("AES256", "KMS")
TABLE_CLASSES = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")
#: A vector index's enums, in the service model's order.
DISTANCE_FUNCTIONS = ("COSINE", "DOT_PRODUCT", "EUCLIDEAN")
SEARCH_SCHEMA_ROLES = ("HASH", "INLINE_FILTER")
MAX_GSI = 20
MAX_VECTOR_INDEXES = 5
MAX_VECTOR_DIMENSIONS = 4096
MAX_LSI = 5
#: The request model's bound on one index's NonKeyAttributes list.
MAX_NON_KEY_ATTRIBUTES = 20
#: Provisioned capacity units above this are "out of bounds" whatever the account's quota.
MAX_CAPACITY_UNITS = 1_000_000_000_000
#: AWS lists at most this many constraint violations in one ValidationException.
MAX_REPORTED_VIOLATIONS = 10


def name_violations(value: Any, member: str) -> list[str]:
    """Table / index names: 3-255 characters of ``[a-zA-Z0-9_.-]``."""
    found: list[str] = []
    if len(value) < 3:
        _violate(found, value, member, "Member must have length greater than or equal to 3")
    if len(value) > 255:
        _violate(found, value, member, "Member must have length less than or equal to 255")
    if not NAME_PATTERN.fullmatch(value):
        _violate(
            found, value, member, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    return found


def check_name(value: Any, member: str = "tableName") -> None:
    """Raise AWS's error for a table or index name that breaks the naming rules."""
    _raise_violations(name_violations(value, member))


def check_table_name(name: str) -> None:
    """A TableName that is no table ARN must be a table's name; AWS's model allows an
    ARN there, so an empty one is refused by the ARN's own minimum length. Checked only
    once no table has the name: AWS checks it first, but a real table's name is valid."""
    if name == "":
        raise validation(
            "1 validation error detected: Value '' at 'tableName' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    if not name.startswith("arn:"):
        check_name(name)


def _violate(found: list[str], value: Any, member: str, constraint: str) -> None:
    shown = "null" if value is None else f"'{_shown(value)}'"
    found.append(f"Value {shown} at '{member}' failed to satisfy constraint: {constraint}")


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        # AWS shows a key schema element as its Java model object prints itself
        return (
            f"KeySchemaElement(attributeName={_shown(value.get('AttributeName'))}, "
            f"keyType={_shown(value.get('KeyType'))})"
        )
    return str(value)


def _raise_violations(found: list[str]) -> None:
    """AWS checks every member constraint first and reports up to ten of them at once."""
    if found:
        found = found[:MAX_REPORTED_VIOLATIONS]
        count = len(found)
        raise validation(
            f"{count} validation error{'s' if count > 1 else ''} detected: {'; '.join(found)}"
        )


def _enum_violation(found: list[str], value: Any, member: str, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        _violate(
            found, value, member, f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )


def _throughput_violations(found: list[str], throughput: Any, member: str) -> None:
    if throughput is None:
        return
    for field in ("WriteCapacityUnits", "ReadCapacityUnits"):
        units = throughput.get(field)
        where = f"{member}.{field[0].lower()}{field[1:]}"
        if units is None:
            _violate(found, None, where, "Member must not be null")
        elif units < 1:
            _violate(found, units, where, "Member must have value greater than or equal to 1")


def _attribute_name_violations(found: list[str], name: Any, member: str) -> None:
    """A key attribute's name: 1 to 255 characters."""
    if name is None:
        _violate(found, None, member, "Member must not be null")
    elif not name:
        _violate(found, name, member, "Member must have length greater than or equal to 1")
    elif len(name) > 255:
        _violate(found, name, member, "Member must have length less than or equal to 255")


def _key_schema_violations(
    found: list[str], keys: Any, member: str, *, key_types: bool = True, most: bool = True
) -> None:
    """``most``: the key has at most two elements (a table's or a local index's; a global
    index's may have up to four HASH and four RANGE attributes, which its rules check)."""
    if keys is None:
        _violate(found, None, member, "Member must not be null")
        return
    if not keys:
        _violate(found, keys, member, "Member must have length greater than or equal to 1")
    if most and len(keys) > 2:
        _violate(found, keys, member, "Member must have length less than or equal to 2")
    for number, key in enumerate(keys, 1):
        where = f"{member}.{number}.member"
        _attribute_name_violations(found, key.get("AttributeName"), f"{where}.attributeName")
        kind = key.get("KeyType")
        if kind is None:
            _violate(found, None, f"{where}.keyType", "Member must not be null")
        elif key_types:
            _enum_violation(found, kind, f"{where}.keyType", KEY_ROLES)


def _index_violations(found: list[str], indexes: Any, member: str, *, global_: bool) -> None:
    for number, index in enumerate(indexes or [], 1):
        _one_index_violations(found, index, f"{member}.{number}.member", global_=global_)


def _one_index_violations(found: list[str], index: Any, where: str, *, global_: bool) -> None:
    name = index.get("IndexName")
    if name is None:
        _violate(found, None, f"{where}.indexName", "Member must not be null")
    else:
        found.extend(name_violations(name, f"{where}.indexName"))
    # AWS checks an index's key types in its own rules ("The first KeySchemaElement
    # is not a HASH key type"), not as an enum.
    _key_schema_violations(
        found, index.get("KeySchema"), f"{where}.keySchema", key_types=False, most=not global_
    )
    projection = index.get("Projection")
    if projection is None:
        _violate(found, None, f"{where}.projection", "Member must not be null")
    else:
        _enum_violation(
            found,
            projection.get("ProjectionType"),
            f"{where}.projection.projectionType",
            PROJECTIONS,
        )
        non_key = projection.get("NonKeyAttributes")
        rule = None if non_key is None else length_rule(len(non_key), MAX_NON_KEY_ATTRIBUTES)
        if rule is not None:
            _violate(found, non_key, f"{where}.projection.nonKeyAttributes", rule)
    if global_:
        _throughput_violations(
            found, index.get("ProvisionedThroughput"), f"{where}.provisionedThroughput"
        )


def _vector_index_violations(found: list[str], index: Any, where: str) -> None:
    """The member constraints of one VectorIndex (CreateTable) or CreateVectorIndexAction
    (UpdateTable): its name, dimensions, enums, vector attribute and search schema."""
    name = index.get("IndexName")
    if name is not None:
        found.extend(name_violations(name, f"{where}.indexName"))
    attribute = (index.get("VectorAttribute") or {}).get("AttributeName")
    if attribute is not None:
        _attribute_name_violations(found, attribute, f"{where}.vectorAttribute.attributeName")
    dimensions = index.get("Dimensions")
    if dimensions is not None and dimensions < 1:
        _violate(
            found,
            dimensions,
            f"{where}.dimensions",
            "Member must have value greater than or equal to 1",
        )
    _enum_violation(
        found, index.get("DistanceFunction"), f"{where}.distanceFunction", DISTANCE_FUNCTIONS
    )
    schema = index.get("SearchSchema")
    rule = None if schema is None else length_rule(len(schema), None)
    if rule is not None:
        _violate(found, schema, f"{where}.searchSchema", rule)
    for number, element in enumerate(schema or [], 1):
        member = f"{where}.searchSchema.{number}.member"
        _attribute_name_violations(found, element.get("AttributeName"), f"{member}.attributeName")
        _enum_violation(
            found,
            element.get("SearchSchemaElementType"),
            f"{member}.searchSchemaElementType",
            SEARCH_SCHEMA_ROLES,
        )
    projection = index.get("Projection")
    if projection is not None:
        _enum_violation(
            found,
            projection.get("ProjectionType"),
            f"{where}.projection.projectionType",
            PROJECTIONS,
        )


def create_table_violations(params: dict[str, Any]) -> list[str]:
    """Every member constraint CreateTable's params break, in the order AWS lists them."""
    found: list[str] = []
    definitions = params.get("AttributeDefinitions")
    if definitions is None:
        _violate(found, None, "attributeDefinitions", "Member must not be null")
    for number, definition in enumerate(definitions or [], 1):
        where = f"attributeDefinitions.{number}.member"
        _attribute_name_violations(found, definition.get("AttributeName"), f"{where}.attributeName")
        kind = definition.get("AttributeType")
        if kind is None:
            _violate(found, None, f"{where}.attributeType", "Member must not be null")
        else:
            _enum_violation(found, kind, f"{where}.attributeType", ATTRIBUTE_TYPES)
    found.extend(name_violations(params["TableName"], "tableName"))
    _enum_violation(found, params.get("BillingMode"), "billingMode", BILLING_MODES)
    _throughput_violations(found, params.get("ProvisionedThroughput"), "provisionedThroughput")
    _key_schema_violations(found, params.get("KeySchema"), "keySchema")
    # AWS lists the GSIs' violations before the LSIs' (the Parity Suite, 2026)
    _index_violations(
        found, params.get("GlobalSecondaryIndexes"), "globalSecondaryIndexes", global_=True
    )
    _index_violations(
        found, params.get("LocalSecondaryIndexes"), "localSecondaryIndexes", global_=False
    )
    for number, index in enumerate(params.get("VectorIndexes") or [], 1):
        _vector_index_violations(found, index, f"vectorIndexes.{number}.member")
    _settings_violations(found, params)
    return found


def _settings_violations(found: list[str], params: dict[str, Any]) -> None:
    """The enums of the settings CreateTable and UpdateTable share."""
    stream = params.get("StreamSpecification")
    if stream is not None:
        _enum_violation(
            found,
            stream.get("StreamViewType"),
            "streamSpecification.streamViewType",
            VIEW_TYPES,
        )
    sse = params.get("SSESpecification")
    if sse is not None:
        _enum_violation(found, sse.get("SSEType"), "sSESpecification.sSEType", SSE_TYPES)


def update_table_violations(params: dict[str, Any]) -> list[str]:
    """Every member constraint UpdateTable's params break."""
    found: list[str] = []
    name = params["TableName"]
    if name == "":
        _violate(found, name, "tableName", "Member must have length greater than or equal to 1")
    elif not name.startswith("arn:"):
        found.extend(name_violations(name, "tableName"))
    _throughput_violations(found, params.get("ProvisionedThroughput"), "provisionedThroughput")
    _enum_violation(found, params.get("BillingMode"), "billingMode", BILLING_MODES)
    for number, update in enumerate(params.get("GlobalSecondaryIndexUpdates") or [], 1):
        where = f"globalSecondaryIndexUpdates.{number}.member"
        change = update.get("Update")
        if change is not None:
            found.extend(name_violations(change["IndexName"], f"{where}.update.indexName"))
            _throughput_violations(
                found,
                change.get("ProvisionedThroughput"),
                f"{where}.update.provisionedThroughput",
            )
        create = update.get("Create")
        if create is not None:
            _one_index_violations(found, create, f"{where}.create", global_=True)
        delete = update.get("Delete")
        if delete is not None:
            found.extend(name_violations(delete["IndexName"], f"{where}.delete.indexName"))
    for number, update in enumerate(params.get("VectorIndexUpdates") or [], 1):
        where = f"vectorIndexUpdates.{number}.member"
        create = update.get("Create")
        if create is not None:
            _vector_index_violations(found, create, f"{where}.create")
        delete = update.get("Delete")
        if delete is not None:
            found.extend(name_violations(delete["IndexName"], f"{where}.delete.indexName"))
    _settings_violations(found, params)
    return found


#: The UpdateTable members that ask for a change (AttributeDefinitions or
#: MultiRegionConsistency alone do not).
UPDATE_TABLE_CHANGES = (
    "ProvisionedThroughput",
    "BillingMode",
    "GlobalSecondaryIndexUpdates",
    "StreamSpecification",
    "SSESpecification",
    "ReplicaUpdates",
    "TableClass",
    "DeletionProtectionEnabled",
    "GlobalTableWitnessUpdates",
    "OnDemandThroughput",
    "WarmThroughput",
    "VectorIndexUpdates",
)
#: The members AWS's "At least one of ... is required" names, by its own names
#: (UpdateStreamEnabled is StreamSpecification; two are not in the public model).
NAMED_UPDATE_TABLE_CHANGES = (
    "ProvisionedThroughput",
    "BillingMode",
    "UpdateStreamEnabled",
    "GlobalSecondaryIndexUpdates",
    "SSESpecification",
    "ReplicaUpdates",
    "MultiAccountReplicaReady",
    "ReplicaTransitRoleArn",
    "MultiRegionConsistency",
    "DeletionProtectionEnabled",
    "OnDemandThroughput",
    "WarmThroughput",
    "TableClass",
)
#: Changes AWS makes only alone, checked in this order, with its words for each.
ALONE_UPDATE_TABLE_CHANGES = (
    ("SSESpecification", "Server-Side Encryption modification must be the only operation"),
    ("TableClass", "TableClass modification must be the only operation"),
    ("DeletionProtectionEnabled", "DeletionProtection modification must be the only operation"),
    ("WarmThroughput", "WarmThroughput must be the only operation"),
)


def _nothing_to_update(params: dict[str, Any]) -> AwsError:
    """AWS's error for an UpdateTable that asks for no change; the list leaves out the
    members the request has (as recorded live: MultiRegionConsistency alone)."""
    named = [m for m in NAMED_UPDATE_TABLE_CHANGES if m not in params]
    return validation(f"At least one of {', '.join(named[:-1])} or {named[-1]} is required")


def check_update_table(params: dict[str, Any]) -> None:
    """Raise the error AWS answers an UpdateTable with before it reads the table: member
    constraints (all at once), then the request's own rules in AWS's order."""
    _raise_violations(update_table_violations(params))
    if params.get("VectorIndexUpdates") == []:
        raise invalid("List of VectorIndexUpdates is empty")
    check_settings(params)
    if params.get("GlobalSecondaryIndexUpdates") == []:
        raise invalid("List of GlobalSecondaryIndexUpdates is empty")
    changes = [m for m in UPDATE_TABLE_CHANGES if params.get(m) is not None]
    if not changes:
        raise _nothing_to_update(params)
    index_changes = [
        u for u in params.get("GlobalSecondaryIndexUpdates") or [] if "Create" in u or "Delete" in u
    ]
    for member, words in ALONE_UPDATE_TABLE_CHANGES:
        if member in changes and len(changes) > 1:
            if member == "WarmThroughput" and any("Create" in u for u in index_changes):
                raise invalid(
                    "Create global secondary index cannot be specified when updating WarmThroughput"
                )
            raise invalid(f"{words} in the request")
    if "OnDemandThroughput" in changes and set(changes) - {"OnDemandThroughput", "BillingMode"}:
        raise invalid(
            "OnDemandThroughput can only be combined with BillingMode in an UpdateTable request"
        )
    if "ProvisionedThroughput" in changes and "StreamSpecification" in changes:
        raise invalid("You cannot modify stream status while updating table IOPS")
    if "ProvisionedThroughput" in changes and index_changes:
        raise invalid("You cannot create or delete index while updating table IOPS")
    if "StreamSpecification" in changes and index_changes:
        raise invalid("You cannot create or delete index while changing stream status")
    throughput = params.get("ProvisionedThroughput")
    if params.get("BillingMode") == "PROVISIONED" and throughput is None:
        raise invalid("ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
    if throughput is not None:
        _check_capacity_bounds(throughput)
    for update in params.get("GlobalSecondaryIndexUpdates") or []:
        created = update.get("Create") or {}
        if created.get("ProvisionedThroughput") is not None:
            _check_capacity_bounds(created["ProvisionedThroughput"])
    for update in params.get("VectorIndexUpdates") or []:
        # the GSI update's rule and words, for the vector index's two actions (headwater's)
        kinds = [kind for kind in ("Create", "Delete") if kind in update]
        if not kinds:
            raise invalid(
                "One of VectorIndexUpdate.Create, VectorIndexUpdate.Delete must not be null"
            )
        if len(kinds) > 1:
            raise invalid("Only one vector index action is allowed per VectorIndexUpdate object")
    names: set[str] = set()
    for update in params.get("GlobalSecondaryIndexUpdates") or []:
        actions = [update[kind] for kind in ("Update", "Create", "Delete") if kind in update]
        if not actions:
            raise invalid(
                "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
                "GlobalSecondaryIndexUpdate.Delete must not be null"
            )
        if len(actions) > 1:
            raise invalid(
                "Only one global secondary index action is allowed per "
                "GlobalSecondaryIndexUpdate object"
            )
        action = actions[0]
        if action["IndexName"] in names:
            raise invalid(
                "Only one global secondary index update per index is allowed simultaneously. "
                f"Index: {action['IndexName']}"
            )
        names.add(action["IndexName"])


#: How many HASH and how many RANGE attributes a global index's key may have.
MAX_MULTI_KEY_ATTRIBUTES = 4


def _key_rules(keys: list[dict[str, Any]], *, multi: bool = False) -> None:
    """The rules every key schema (table or index) follows, in AWS's order. ``multi``: a
    global index's, which may have up to four HASH attributes, then up to four RANGE."""
    names = [k["AttributeName"] for k in keys]
    if len(keys) == 2 and names[0] == names[1]:
        raise validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    if keys[0]["KeyType"] != "HASH":
        raise validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if not multi:
        if len(keys) == 2 and keys[1]["KeyType"] != "RANGE":
            raise validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
            )
        return
    kinds = [k["KeyType"] for k in keys]
    first_range = kinds.index("RANGE") if "RANGE" in kinds else len(kinds)
    if "HASH" in kinds[first_range:]:
        raise validation(
            "Invalid KeySchema: All HASH key type elements must precede the RANGE key type elements"
        )
    for kind, count in (("HASH", first_range), ("RANGE", len(kinds) - first_range)):
        if count > MAX_MULTI_KEY_ATTRIBUTES:
            raise validation(
                f"Invalid KeySchema: A global secondary index can have at most "
                f"{MAX_MULTI_KEY_ATTRIBUTES} {kind} key type elements"
            )
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise validation(f"Invalid KeySchema: Duplicate attribute name in KeySchema: {duplicate}")


def _undefined_keys(keys: list[dict[str, Any]], defined: list[str]) -> None:
    names = [k["AttributeName"] for k in keys]
    if any(name not in defined for name in names):
        raise invalid(
            "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(names)}], AttributeDefinitions: [{', '.join(defined)}]"
        )


def _projection_rules(projection: dict[str, Any]) -> None:
    kind = projection.get("ProjectionType")
    non_key = projection.get("NonKeyAttributes")
    if kind is None:
        raise invalid("Unknown ProjectionType: null")
    if kind != "INCLUDE" and non_key is not None:
        raise invalid(f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    seen: set[str] = set()
    for name in non_key or []:
        if name in seen:
            raise invalid(f"Duplicate element in NonKeyAttributes: {name}")
        seen.add(name)


def check_on_demand(on_demand: dict[str, Any] | None, billing: str, *, updating: bool) -> None:
    """A table's OnDemandThroughput: only for on-demand tables, and at least 1 request
    unit (UpdateTable takes -1 to remove a maximum)."""
    for member in ("MaxReadRequestUnits", "MaxWriteRequestUnits"):
        units = (on_demand or {}).get(member)
        if units is None:
            continue
        if billing == "PROVISIONED":
            raise invalid(
                f"{member} for OnDemandThroughput cannot be specified when the table "
                "BillingMode is PROVISIONED"
            )
        # Past a Java long (botocore sends any integer) is out of range too; it once
        # reached the stored specification's JSON and raised TypeError.
        if (units < 1 and not (updating and units == -1)) or units > JAVA_LONG[-1]:
            raise invalid(
                f"Requested {member} for OnDemandThroughput for table is outside of valid range"
            )


def check_warm_throughput(warm: dict[str, Any] | None) -> None:
    """A table's WarmThroughput: positive units a Java long holds (botocore sends any
    integer; one past 64 bits reached the stored specification's JSON and raised
    TypeError)."""
    for member in ("ReadUnitsPerSecond", "WriteUnitsPerSecond"):
        units = (warm or {}).get(member)
        if units is not None and not 1 <= units <= JAVA_LONG[-1]:
            raise invalid(
                f"Requested {member} for WarmThroughput for table is outside of valid range"
            )


def check_settings(params: dict[str, Any]) -> None:
    """The table class and SSE rules CreateTable and UpdateTable share, in AWS's words."""
    table_class = params.get("TableClass")
    if table_class is not None and table_class not in TABLE_CLASSES:
        raise validation(
            "Invalid table-class parameter provided. Please try again with a valid table-class "
            f"value: [{', '.join(TABLE_CLASSES)}]."
        )
    sse = params.get("SSESpecification")
    if sse is None:
        return
    if sse.get("Enabled") is False:
        if sse.get("SSEType") is not None:
            raise invalid("SSEType can not be specified if Enabled is false")
        if sse.get("KMSMasterKeyId") is not None:
            raise invalid("KMSMasterKeyId can not be specified if Enabled is false")
    if sse.get("KMSMasterKeyId") is not None and sse.get("SSEType") != "KMS":
        raise invalid("SSEType KMS is required if KMSMasterKeyId is specified")
    if sse.get("SSEType") == "AES256":
        raise invalid("SSEType AES256 is not supported")


def _check_capacity_bounds(throughput: dict[str, Any]) -> None:
    """A table's or an index's provisioned units within DynamoDB's bound (which also keeps
    them inside the 64 bits the stored specification's JSON holds)."""
    for member in ("ReadCapacityUnits", "WriteCapacityUnits"):
        if throughput[member] > MAX_CAPACITY_UNITS:
            raise validation(f"Given value {throughput[member]} for {member} is out of bounds")


def check_create_table(params: dict[str, Any]) -> None:
    """Raise the error AWS answers a CreateTable with: member constraints first (all of
    them at once), then its table, key and index rules, each in AWS's order."""
    _raise_violations(create_table_violations(params))
    billing = params.get("BillingMode") or "PROVISIONED"
    throughput = params.get("ProvisionedThroughput")
    if billing == "PAY_PER_REQUEST":
        if throughput is not None:
            raise invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                "BillingMode is PAY_PER_REQUEST"
            )
    else:
        if throughput is None:
            raise invalid(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
                "BillingMode is PROVISIONED"
            )
        _check_capacity_bounds(throughput)
    check_on_demand(params.get("OnDemandThroughput"), billing, updating=False)
    check_warm_throughput(params.get("WarmThroughput"))
    defined = [d["AttributeName"] for d in params["AttributeDefinitions"]]
    keys = params["KeySchema"]
    if len(keys) > len(defined):
        raise validation("Invalid KeySchema: Some index key attribute have no definition")
    _undefined_keys(keys, defined)
    _key_rules(keys)
    if len(set(defined)) != len(defined):
        duplicate = next(name for name in defined if defined.count(name) > 1)
        raise validation(f"Attribute Name is duplicated: {duplicate}")
    local = params.get("LocalSecondaryIndexes")
    global_ = params.get("GlobalSecondaryIndexes")
    names: set[str] = set()
    if local is not None:
        if not local:
            raise invalid("List of LocalSecondaryIndexes is empty")
        if len(keys) != 2:
            raise invalid(
                "Table KeySchema does not have a range key, which is required when specifying "
                "a LocalSecondaryIndex"
            )
        for index in local:
            name = index["IndexName"]
            index_keys = index["KeySchema"]
            _undefined_keys(index_keys, defined)
            _key_rules(index_keys)
            if len(index_keys) != 2:
                raise invalid(f"Index KeySchema does not have a range key for index: {name}")
            hash_key, table_hash = index_keys[0]["AttributeName"], keys[0]["AttributeName"]
            if hash_key != table_hash:
                raise invalid(
                    "Index KeySchema does not have the same leading hash key as table KeySchema "
                    f"for index: {name}. index hash key: {hash_key}, table hash key: {table_hash}"
                )
            _projection_rules(index["Projection"])
            if name in names:
                raise invalid(f"Duplicate index name: {name}")
            names.add(name)
        if len(local) > MAX_LSI:
            raise invalid(f"Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSI}")
    if global_ is not None:
        if not global_:
            raise invalid("List of GlobalSecondaryIndexes is empty")
        for index in global_:
            name = index["IndexName"]
            _undefined_keys(index["KeySchema"], defined)
            _key_rules(index["KeySchema"], multi=True)
            _projection_rules(index["Projection"])
            index_throughput = index.get("ProvisionedThroughput")
            if billing == "PAY_PER_REQUEST" and index_throughput is not None:
                raise invalid(
                    f"ProvisionedThroughput should not be specified for index: {name} when "
                    "BillingMode is PAY_PER_REQUEST"
                )
            if billing == "PROVISIONED" and index_throughput is None:
                raise invalid(f"ProvisionedThroughput is not specified for index: {name}")
            if index_throughput is not None:
                _check_capacity_bounds(index_throughput)
            check_on_demand(index.get("OnDemandThroughput"), billing, updating=False)
            if name in names:
                raise invalid(f"Duplicate index name: {name}")
            names.add(name)
        if len(global_) > MAX_GSI:
            raise invalid(f"GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSI}")
    vectors = params.get("VectorIndexes")
    if vectors is not None:
        vector_index_specs(vectors, params["AttributeDefinitions"], billing, names, [])
    used = [k["AttributeName"] for k in keys]
    for index in (local or []) + (global_ or []):
        used += [k["AttributeName"] for k in index["KeySchema"] if k["AttributeName"] not in used]
    for index in vectors or []:
        # a SearchSchema attribute is defined as an index key is
        for element in index.get("SearchSchema") or []:
            if element["AttributeName"] not in used:
                used.append(element["AttributeName"])
    if len(used) != len(defined):
        if local is None and global_ is None and vectors is None:
            raise invalid(
                "Number of attributes in KeySchema does not exactly match number of attributes "
                "defined in AttributeDefinitions"
            )
        raise invalid(
            "Some AttributeDefinitions are not used. "
            f"AttributeDefinitions: [{', '.join(defined)}], keys used: [{', '.join(used)}]"
        )
    check_settings(params)
    for index in (local or []) + (global_ or []):
        projection = index["Projection"]
        if projection["ProjectionType"] == "INCLUDE" and not projection.get("NonKeyAttributes"):
            raise invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    check_tags(params.get("Tags") or [])


def _throughput(value: dict[str, Any] | None, billing: str, index: str | None) -> dict[str, Any]:
    if billing == "PAY_PER_REQUEST":
        if value:
            raise invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified "
                + ("" if index is None else f"for index: {index} ")
                + "when BillingMode is PAY_PER_REQUEST"
            )
        return {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    if not value:
        if index is not None:
            raise invalid(f"ProvisionedThroughput must be specified for index: {index}")
        raise invalid(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode "
            "is PROVISIONED"
        )
    return {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": value["ReadCapacityUnits"],
        "WriteCapacityUnits": value["WriteCapacityUnits"],
    }


def _projection(projection: dict[str, Any]) -> dict[str, Any]:
    _projection_rules(projection)
    kind = projection["ProjectionType"]
    non_key = projection.get("NonKeyAttributes")
    if kind == "INCLUDE" and not non_key:
        raise invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    result: dict[str, Any] = {"ProjectionType": kind}
    if non_key:
        result["NonKeyAttributes"] = list(non_key)
    return result


def vector_index_specs(
    indexes: list[dict[str, Any]],
    definitions: list[dict[str, Any]],
    billing: str,
    taken: set[str],
    existing: list[dict[str, Any]],
    *,
    updating: bool = False,
) -> list[dict[str, Any]]:
    """The stored specs of vector indexes CreateTable (or UpdateTable, ``updating``) asks
    for, checked by AWS's rules. ``definitions``: the request's AttributeDefinitions (an
    UpdateTable's own, not the table's: AWS does not look at those); ``taken``: the
    table's other index names; ``existing``: its vector indexes. The texts are those a
    conformance suite and an emulator captured from AWS (eu-west-2 and us-east-1, 2026)."""
    if billing != "PAY_PER_REQUEST":
        raise invalid("Vector indexes are only supported for PAY_PER_REQUEST tables")
    if not indexes and not updating:
        raise invalid("List of VectorIndexes is empty")
    if len(existing) + len(indexes) > MAX_VECTOR_INDEXES:
        if updating:
            raise AwsError(
                "LimitExceededException",
                "Subscriber limit exceeded: Number of vector secondary indexes exceeds "
                f"per-table limit of {MAX_VECTOR_INDEXES}",
            )
        raise invalid(f"VectorIndex count exceeds the per-table limit of {MAX_VECTOR_INDEXES}")
    defined = {d["AttributeName"] for d in definitions}
    dimensions = {i["VectorAttribute"]["AttributeName"]: i["Dimensions"] for i in existing}
    specs: list[dict[str, Any]] = []
    for index in indexes:
        name = index["IndexName"]
        if name in taken:
            raise invalid(f"Duplicate index name: {name}")
        if index["Dimensions"] > MAX_VECTOR_DIMENSIONS:
            raise invalid(
                f"Number of dimensions must be between 1 and {MAX_VECTOR_DIMENSIONS} inclusive."
            )
        schema = index.get("SearchSchema") or []
        if any(e["AttributeName"] not in defined for e in schema):
            raise invalid("One element in SearchSchema is not defined in attribute definitions")
        attribute = index["VectorAttribute"]["AttributeName"]
        if attribute in defined:
            raise invalid(
                f"Conflicting attribute definition for '{attribute}'. An attribute cannot be "
                "defined in AttributeDefinitions when used as a VectorAttribute."
            )
        if dimensions.setdefault(attribute, index["Dimensions"]) != index["Dimensions"]:
            raise invalid(
                f"Conflicting attribute definition for '{attribute}'. All VectorIndexes on the "
                "same vector attribute must use the same dimensions."
            )
        if sum(1 for e in schema if e["SearchSchemaElementType"] == "HASH") > 1:
            raise invalid("SearchSchema can have at most one HASH element")  # headwater's text
        if len({e["AttributeName"] for e in schema}) != len(schema):
            raise invalid("Duplicate attribute in SearchSchema")  # headwater's text
        spec: dict[str, Any] = {
            "IndexName": name,
            "VectorAttribute": {"AttributeName": attribute},
            "Dimensions": index["Dimensions"],
            "DistanceFunction": index["DistanceFunction"],
            "Projection": _projection(index["Projection"]),
        }
        if schema:
            spec["SearchSchema"] = [
                {
                    "AttributeName": e["AttributeName"],
                    "SearchSchemaElementType": e["SearchSchemaElementType"],
                }
                for e in schema
            ]
        taken.add(name)
        specs.append(spec)
    return specs


def index_spec(
    index: dict[str, Any],
    kind: str,
    billing: str,
    defined: list[str],
) -> dict[str, Any]:
    """One GSI or LSI of CreateTable / UpdateTable, checked with CreateTable's key rules
    (its member constraints and LSI rules are ``check_create_table``'s and
    ``check_update_table``'s)."""
    name = index["IndexName"]
    keys = index["KeySchema"]
    _undefined_keys(keys, defined)
    _key_rules(keys, multi=kind == "GSI")
    spec: dict[str, Any] = {
        "IndexName": name,
        "KeySchema": [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in keys],
        "Projection": _projection(index["Projection"]),
    }
    if kind == "GSI":
        spec["ProvisionedThroughput"] = _throughput(
            index.get("ProvisionedThroughput"), billing, name
        )
        if index.get("OnDemandThroughput"):
            spec["OnDemandThroughput"] = dict(index["OnDemandThroughput"])
    return spec


def table_spec(params: dict[str, Any], arn: str, table_id: str, now: float) -> dict[str, Any]:
    """The stored spec of a new table, from CreateTable's params (raises AWS's errors)."""
    check_create_table(params)
    definitions = params["AttributeDefinitions"]
    keys = params["KeySchema"]
    defined = [d["AttributeName"] for d in definitions]
    billing = params.get("BillingMode") or "PROVISIONED"
    spec: dict[str, Any] = {
        "TableName": params["TableName"],
        "TableArn": arn,
        "TableId": table_id,
        "CreationDateTime": now,
        "AttributeDefinitions": [
            {"AttributeName": d["AttributeName"], "AttributeType": d["AttributeType"]}
            for d in definitions
        ],
        "KeySchema": [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in keys],
        "BillingMode": billing,
        "ProvisionedThroughput": _throughput(params.get("ProvisionedThroughput"), billing, None),
        "DeletionProtectionEnabled": bool(params.get("DeletionProtectionEnabled", False)),
    }
    if billing == "PAY_PER_REQUEST":
        spec["LastUpdateToPayPerRequestDateTime"] = now
    for field, kind in (("LocalSecondaryIndexes", "LSI"), ("GlobalSecondaryIndexes", "GSI")):
        if params.get(field):
            spec[field] = [index_spec(index, kind, billing, defined) for index in params[field]]
    if params.get("VectorIndexes"):
        others = {
            i["IndexName"]
            for f in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes")
            for i in params.get(f) or []
        }
        spec["VectorIndexes"] = vector_index_specs(
            params["VectorIndexes"], definitions, billing, others, []
        )
    stream = params.get("StreamSpecification")
    if stream is not None:
        spec["StreamSpecification"] = stream_specification(stream, creating=True)
    sse = params.get("SSESpecification")
    if sse is not None and sse.get("Enabled"):
        spec["SSEDescription"] = sse_description(sse, arn)
    if params.get("TableClass"):
        spec["TableClassSummary"] = {"TableClass": params["TableClass"]}
    if params.get("WarmThroughput"):
        spec["WarmThroughput"] = dict(params["WarmThroughput"])
    if params.get("OnDemandThroughput"):
        spec["OnDemandThroughput"] = dict(params["OnDemandThroughput"])
    spec["Tags"] = [dict(t) for t in params.get("Tags") or []]
    return spec


#: The resource part of an ARN the tagging operations take: a table or its stream.
TAGGABLE_RESOURCE = re.compile(r"table/[^/]+(/stream/[^/]+)?")
#: The characters AWS allows in tag keys and values besides letters, digits and spaces.
TAG_PUNCTUATION = frozenset("+-=._:/@")
MAX_TAGS = 50


def check_tagging(
    arn: str, tags: list[dict[str, Any]] | None, keys: list[str] | None, region: str
) -> None:
    """Raise AWS's error for TagResource / UntagResource / ListTagsOfResource input that
    is not acceptable whatever the tables: member constraints first, then the ARN, then
    the tags themselves."""
    found: list[str] = []
    for number, tag in enumerate(tags or [], 1):
        _tag_key_violations(found, tag["Key"], f"tags.{number}.member.key")
        if len(tag["Value"]) > 256:
            _violate(
                found,
                tag["Value"],
                f"tags.{number}.member.value",
                "Member must have length less than or equal to 256",
            )
    for number, key in enumerate(keys or [], 1):
        _tag_key_violations(found, key, f"tagKeys.{number}.member")
    _raise_violations(found)
    if not arn.startswith("arn:"):
        raise invalid(f"ARNs must start with 'arn:': {arn}")
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[2] != "dynamodb":
        raise invalid(f"Provided Arn is not a DynamoDB resource arn: {arn}")
    if not TAGGABLE_RESOURCE.fullmatch(parts[5]):
        raise invalid(
            "Invalid resource arn provided, only table or stream is accepted. Provided "
            f"resource arn: {arn}"
        )
    if parts[3] != region:
        raise validation(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    if tags is not None and not tags:
        raise validation("Atleast one Tag needs to be provided as Input.")
    if keys is not None and not keys:
        raise validation("Atleast one Tag Key needs to be provided as Input.")
    check_tags(tags or [])
    for key in keys or []:
        _check_tag_key(key)


def check_tags(tags: list[dict[str, Any]]) -> None:
    """The tags of a TagResource or CreateTable, in AWS's words."""
    seen: set[str] = set()
    for tag in tags:
        _check_tag_key(tag["Key"])
        if not _is_tag_text(tag["Value"]):
            raise validation(f"The Tag Value provided is invalid, Value: {tag['Value']}")
        if tag["Key"] in seen:
            raise validation(
                f"Duplicate Tag Keys provided as input: Duplicate Tag Key found {tag['Key']}"
            )
        seen.add(tag["Key"])
    if len(tags) > MAX_TAGS:
        raise too_many_tags()


def too_many_tags() -> AwsError:
    return validation("Number of Tags exceed the current limit for the provided ResourceArn")


def _check_tag_key(key: str) -> None:
    if key.startswith("aws:"):
        raise validation(f"Tag Key cannot be prefixed with aws:, Key: {key}")
    if not _is_tag_text(key):
        raise validation(f"The Tag Key provided is invalid, Key: {key}")


def _is_tag_text(text: str) -> bool:
    return all(c.isalnum() or c.isspace() or c in TAG_PUNCTUATION for c in text)


def _tag_key_violations(found: list[str], key: str, member: str) -> None:
    if not key:
        _violate(found, key, member, "Member must have length greater than or equal to 1")
    elif len(key) > 128:
        _violate(found, key, member, "Member must have length less than or equal to 128")


def check_list_tables(params: dict[str, Any]) -> None:
    """ListTables' Limit (1-100) and ExclusiveStartTableName (a table name), together."""
    found: list[str] = []
    limit = params.get("Limit")
    if limit is not None and limit < 1:
        _violate(found, limit, "limit", "Member must have value greater than or equal to 1")
    elif limit is not None and limit > 100:
        _violate(found, limit, "limit", "Member must have value less than or equal to 100")
    start = params.get("ExclusiveStartTableName")
    if start is not None:
        found.extend(name_violations(start, "exclusiveStartTableName"))
    _raise_violations(found)


def check_point_in_time_recovery(specification: dict[str, Any]) -> None:
    """UpdateContinuousBackups' PointInTimeRecoverySpecification: a recovery period of 1 to
    35 days, and none when recovery is being turned off."""
    days = specification.get("RecoveryPeriodInDays")
    found: list[str] = []
    where = "pointInTimeRecoverySpecification.recoveryPeriodInDays"
    if days is not None and days < 1:
        _violate(found, days, where, "Member must have value greater than or equal to 1")
    elif days is not None and days > 35:
        _violate(found, days, where, "Member must have value less than or equal to 35")
    _raise_violations(found)
    if days is not None and not specification["PointInTimeRecoveryEnabled"]:
        raise validation(
            "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling point-in-time "
            "recovery."
        )


def check_time_to_live(specification: dict[str, Any]) -> None:
    """The TTL attribute's name: 1 to 255 characters."""
    found: list[str] = []
    _attribute_name_violations(
        found, specification["AttributeName"], "timeToLiveSpecification.attributeName"
    )
    _raise_violations(found)


def stream_specification(stream: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """A StreamSpecification's rules, in CreateTable's or UpdateTable's words (its view
    type's enum is checked with the members)."""
    view = stream.get("StreamViewType")
    if not stream.get("StreamEnabled"):
        if view:
            raise invalid(
                "Table is being created with a stream disabled, UpdateViewType should not be "
                "specified"
                if creating
                else "If stream is being disabled, then UpdateViewType must not be specified"
            )
        return {"StreamEnabled": False}
    if view is None:
        raise invalid(
            "Table is being created with a stream enabled, UpdateViewType is required"
            if creating
            else "If stream is being enabled then UpdateViewType is required"
        )
    return {"StreamEnabled": True, "StreamViewType": view}


def sse_description(sse: dict[str, Any], table_arn: str) -> dict[str, Any]:
    """SSE with KMS (AWS-managed key unless one is named): settings are stored, not used."""
    parts = table_arn.split(":")
    key = sse.get("KMSMasterKeyId") or "alias/aws/dynamodb"
    if not key.startswith("arn:"):
        key = f"arn:aws:kms:{parts[3]}:{parts[4]}:key/{_stable_uuid(key + parts[4])}"
    return {"Status": "ENABLED", "SSEType": sse.get("SSEType") or "KMS", "KMSMasterKeyArn": key}


def _stable_uuid(seed: str) -> str:
    import hashlib
    import uuid

    return str(uuid.UUID(bytes=hashlib.md5(seed.encode(), usedforsecurity=False).digest()))

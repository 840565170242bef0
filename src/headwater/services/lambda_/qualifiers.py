"""Qualifiers: what ``function``, ``function:3``, ``function:$LATEST`` and ``function:live``
name, and which version an invocation of them runs.

``QualifierResolver`` is an owned part of the Lambda service over the function store and
the resource store: it turns a (region, name, qualifier) into a ``Target`` (the record
whose code and configuration run, the version number, the alias when there is one), and
picks the version of a weighted alias for each invocation, as Lambda's routing does.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from headwater.store.functions import FunctionRecord, FunctionStore
from headwater.store.lambda_resources import LambdaResourceStore

LATEST = "$LATEST"
_VERSION = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved function reference."""

    #: $LATEST's record, or the published version's snapshot.
    record: FunctionRecord
    #: The qualifier as referenced (``None`` when unqualified).
    qualifier: str | None
    #: ``$LATEST`` or the version number (an alias's primary version).
    version: str
    #: The alias body (``FunctionVersion``, ``RoutingConfig``...) when named by an alias.
    alias: dict[str, Any] | None = None


def is_version(qualifier: str | None) -> bool:
    return qualifier is not None and bool(_VERSION.fullmatch(qualifier))


class QualifierResolver:
    """Resolves qualifiers against the stored functions, versions and aliases."""

    def __init__(self, functions: FunctionStore, resources: LambdaResourceStore) -> None:
        self._functions = functions
        self._resources = resources
        self._random = random.Random()

    def latest(self, region: str, name: str) -> FunctionRecord | None:
        return self._functions.get(region, name)

    def resolve(self, region: str, name: str, qualifier: str | None) -> Target | None:
        """The target of ``name:qualifier``, or ``None`` if the function, version or alias
        does not exist."""
        latest = self._functions.get(region, name)
        if latest is None:
            return None
        if qualifier is None or qualifier == LATEST:
            return Target(latest, qualifier, LATEST)
        if is_version(qualifier):
            version = self._resources.version(region, name, int(qualifier))
            return None if version is None else Target(version, qualifier, qualifier)
        alias = self._resources.alias(region, name, qualifier)
        if alias is None:
            return None
        record = self.version_record(latest, alias["FunctionVersion"])
        if record is None:
            return None
        return Target(record, qualifier, alias["FunctionVersion"], alias)

    def version_record(self, latest: FunctionRecord, version: str) -> FunctionRecord | None:
        if version == LATEST:
            return latest
        return self._resources.version(latest.region, latest.name, int(version))

    def pick(self, target: Target) -> Target:
        """The version one invocation of ``target`` runs: for an alias with routing weights,
        an additional version with its weight's probability, else the primary version."""
        alias = target.alias
        weights = ((alias or {}).get("RoutingConfig") or {}).get("AdditionalVersionWeights")
        if not weights:
            return target
        draw = self._random.random()
        for version, weight in weights.items():
            if draw < weight:
                latest = self._functions.get(target.record.region, target.record.name)
                record = None if latest is None else self.version_record(latest, version)
                if record is not None:
                    return Target(record, target.qualifier, version, alias)
                break
            draw -= weight
        return target

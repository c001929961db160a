"""Secrets Manager version stages, as the rotation contract moves them.

Reads always name the stage (or version) they want: after a stage move,
``GetSecretValue`` without one is not a reliable way to get AWSCURRENT (moto
returns the previous value), and the rotation steps must never confuse the two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.core import aws, jsontext
from chalicelib.core.timestamps import format_time

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
PREVIOUS = "AWSPREVIOUS"
# Holds a value supplied to the rotate API until createSecret copies it into the pending version. A custom
# label, not AWSPENDING: Secrets Manager refuses RotateSecret while AWSPENDING sits on a non-current version.
SUPPLIED = "PLATFORMSUPPLIED"


@dataclass(frozen=True)
class SecretVersions:
    name: str
    stages: dict[str, list[str]]

    def holding(self, stage: str) -> str | None:
        return next((version for version, stages in self.stages.items() if stage in stages), None)

    def pending_elsewhere(self) -> bool:
        """A rotation is in progress when AWSPENDING labels a version that is not AWSCURRENT."""
        pending = self.holding(PENDING)
        return pending is not None and CURRENT not in self.stages.get(pending, [])


def describe(secret_id: str) -> SecretVersions:
    response = aws.secretsmanager().describe_secret(SecretId=secret_id)
    return SecretVersions(
        str(response["Name"]), {k: list(v) for k, v in response.get("VersionIdsToStages", {}).items()}
    )


def read(secret_id: str, *, version_id: str | None = None, stage: str) -> dict[str, Any] | None:
    client = aws.secretsmanager()
    params: dict[str, Any] = {"SecretId": secret_id, "VersionStage": stage}
    if version_id is not None:
        params["VersionId"] = version_id
    try:
        response = client.get_secret_value(**params)
    except client.exceptions.ResourceNotFoundException:
        return None
    value: dict[str, Any] = jsontext.read(response["SecretString"])
    return value


def put(secret_id: str, version_id: str, value: dict[str, Any], stage: str) -> None:
    aws.secretsmanager().put_secret_value(
        SecretId=secret_id, ClientRequestToken=version_id, SecretString=json.dumps(value), VersionStages=[stage]
    )


def remove_stage(secret_id: str, stage: str, version_id: str) -> None:
    aws.secretsmanager().update_secret_version_stage(
        SecretId=secret_id, VersionStage=stage, RemoveFromVersionId=version_id
    )


def promote(secret_id: str, to_version: str, from_version: str) -> None:
    """AWSCURRENT to ``to_version``; Secrets Manager moves AWSPREVIOUS to the version it leaves."""
    aws.secretsmanager().update_secret_version_stage(
        SecretId=secret_id, VersionStage=CURRENT, MoveToVersionId=to_version, RemoveFromVersionId=from_version
    )


def listed(secret_id: str) -> list[dict[str, Any]]:
    """Every version with its stages and creation time, newest first; never a value."""
    client = aws.secretsmanager()
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"SecretId": secret_id, "IncludeDeprecated": False}
    while True:
        response = client.list_secret_version_ids(**params)
        for version in response.get("Versions", []):
            created = version.get("CreatedDate")
            found.append(
                {
                    "versionId": version["VersionId"],
                    "stages": sorted(version.get("VersionStages", [])),
                    "createdAt": format_time(created) if created is not None else None,
                }
            )
        if not response.get("NextToken"):
            break
        params["NextToken"] = response["NextToken"]
    return sorted(found, key=lambda v: v["createdAt"] or "", reverse=True)

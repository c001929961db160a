"""``build/sam.json`` as CloudFormation deploys it: the SAM transform run here, not first in the account.

cfn-lint checks the SAM template itself; what Lambda and API Gateway are given
is what the transform makes of it: the event source mappings, the API's
deployment and stage, the schedules' rules and permissions. aws-sam-translator
is that transform (the library CloudFormation's own SAM transform runs), so
``tests/infra/test_template.py`` asserts on its output and ``make scan`` hands
it to the security scanner, which knows CloudFormation's types better than SAM's.

The template is translated as ``aws cloudformation package`` leaves it (each
function's ``CodeUri`` an S3 object; the transform accepts nothing else), in one
region (ARNs come out as ``Fn::Sub``, so which one does not matter).

    python -m infra.package.translate build/sam.json build/template.json
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import boto3
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

REGION = "us-east-1"
PACKAGED_CODE = "s3://artifact-bucket/deployment.zip"


class TranslationError(Exception):
    """The SAM transform refuses the template, as it would at deploy time."""


def packaged(sam: dict[str, Any]) -> dict[str, Any]:
    """``sam`` with each function's code uploaded, as ``aws cloudformation package`` writes it."""
    template = copy.deepcopy(sam)
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = PACKAGED_CODE
    return template


def translate(sam: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation template the SAM transform makes of ``sam``.

    No function declares SAM ``Policies`` (each has its role), so the map of
    AWS managed policies, which the transform would read from IAM, is empty.
    """
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    try:
        template: dict[str, Any] = translator.translate(packaged(sam), parameter_values={}, get_managed_policy_map=dict)
    except InvalidDocumentException as exc:
        raise TranslationError("; ".join(str(cause) for cause in exc.causes)) from exc
    return template


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("sam", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    try:
        template = translate(json.loads(args.sam.read_text()))
    except TranslationError as exc:
        print(f"SAM transform: {exc}", file=sys.stderr)
        return 1
    args.out.write_text(json.dumps(template, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

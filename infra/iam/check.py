"""``make iam``: run the end-to-end flows, record every AWS call, and evaluate each against the packaged template.

``python -m infra.iam.check build/iam/sam.json`` runs the flows (``FLOWS``,
the existing tests in ``tests/e2e``) with ``IAM_CALL_LOG`` set, so each local
runtime they start records its calls (``infra.local.calls``). Each call
becomes the IAM requests AWS would authorize (``infra.iam.requests``), which
are evaluated against the role of the function that made it, as the template
declares it (``infra.iam.template``). Lambda's event source mappings are
evaluated from the template's event sources, and each schedule a flow created
against the role it names; a call an event destination's writer made under the
role it assumed (``role`` in the record) against that role, while the function's
own ``sts:AssumeRole`` and ``sts:TagSession`` are checked against the function's.
The check fails on any request the policy does not
allow (naming the function, the action and the resource), on a call no
function made, and on a policy action no flow used unless ``KEPT`` says why it
stays. ``--calls DIR`` evaluates calls recorded earlier without running the
flows again. docs/deploy.md "What the IAM check proves" says why this, and not
moto's own IAM enforcement, is the mechanism.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.iam.policy import Request, evaluate
from infra.iam.requests import Arns, UnknownCall, mapping_requests, requests_for
from infra.iam.template import Template, load
from infra.local.calls import CALL_LOG_VARIABLE
from infra.local.invoke import LOCAL_ACCOUNT, PROJECT_DIR

FLOWS = (
    "tests/e2e/test_local_runtime.py::test_health_and_jwks",
    "tests/e2e/test_inbound_e2e.py",
    "tests/e2e/test_outbound_e2e.py",
    "tests/e2e/test_runs_e2e.py",
    "tests/e2e/test_rotation_e2e.py",
    "tests/e2e/test_schedules_and_breaker_e2e.py::test_a_schedule_fires_runs_until_it_is_paused",
    "tests/e2e/test_redrive_e2e.py",
    "tests/e2e/test_mcp_server_e2e.py",
    "tests/e2e/test_ordered_e2e.py",
    "tests/e2e/test_platform_role_and_dead_letters_e2e.py",
    "tests/e2e/test_live_e2e.py",
    "tests/e2e/test_destinations_e2e.py",
    "tests/e2e/test_platform_bus_e2e.py",
)
# Policy actions no flow calls through boto3, and why each stays.
KEPT = {
    "logs:CreateLogGroup": "Lambda's runtime writes the function's logs under its role, not our code",
    "logs:CreateLogStream": "Lambda's runtime writes the function's logs under its role, not our code",
    "logs:PutLogEvents": "Lambda's runtime writes the function's logs under its role, not our code",
    "xray:PutTraceSegments": "Lambda sends the X-Ray segments of active tracing under the function's role",
    "xray:PutTelemetryRecords": "Lambda sends the X-Ray segments of active tracing under the function's role",
}


@dataclass(frozen=True)
class Finding:
    """One request evaluated for one principal (a function, or the role a schedule names)."""

    principal: str
    request: Request
    origin: str = field(compare=False)  # the first call that made it; the same request from another is one finding


@dataclass
class Report:
    allowed: dict[Finding, str] = field(default_factory=dict)  # -> the statement (Sid) that allowed it
    denied: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # the policies' action patterns that allowed a request
    unused: dict[str, str | None] = field(default_factory=dict)  # action pattern -> why it stays, or None
    idle: list[str] = field(default_factory=list)  # functions no flow ran (only their event sources are checked)

    @property
    def failed(self) -> bool:
        return bool(self.denied or self.problems or any(reason is None for reason in self.unused.values()))


def read_calls(directory: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for path in sorted(directory.glob("calls-*.jsonl")) for line in path.read_text().splitlines()
    ]


def findings(template: Template, calls: list[dict[str, Any]]) -> tuple[list[Finding], list[str]]:
    """Every request the calls and the template's event sources make, and the calls the check cannot place."""
    arns = Arns(template.region, template.account)
    found: set[Finding] = set()
    problems: set[str] = set()
    for call in calls:
        function, origin = call.get("function"), f"{call['service']}:{call['operation']}"
        if function is None:
            problems.add(f"{origin} was called outside any function, so under no role the template declares")
            continue
        if function not in template.functions:
            problems.add(f"{origin} was called by {function}, which the template does not deploy")
            continue
        try:
            requests = requests_for(call["service"], call["operation"], call.get("params", {}), arns)
        except UnknownCall as exc:
            problems.add(f"{function}: {exc}")
            continue
        # A write to an event destination runs under the writer role the function assumed (tagged with the
        # tenant): the role's policy authorizes it, and the tenant's resource policy, which no flow can see.
        principal = call.get("role") or function
        found.update(Finding(principal, request, origin) for request in requests)
        target = call.get("params", {}).get("Target", {})
        if call["operation"] in ("CreateSchedule", "UpdateSchedule") and target.get("RoleArn"):
            found.add(Finding(target["RoleArn"], Request("sqs:SendMessage", target["Arn"]), "a schedule's firing"))
    for function in template.functions.values():
        for source in function.sources:
            found.update(Finding(function.name, r, "event source mapping") for r in mapping_requests(source))
    return sorted(found, key=lambda f: (f.principal, f.request.action, f.request.resource)), sorted(problems)


def check(template: Template, calls: list[dict[str, Any]]) -> Report:
    report = Report()
    requested, report.problems = findings(template, calls)
    report.idle = sorted(set(template.functions) - {call.get("function") for call in calls})
    for finding in requested:
        if finding.principal in template.functions:
            policy = template.functions[finding.principal].statements
        elif finding.principal in template.roles:
            policy = template.roles[finding.principal]
        else:
            report.problems.append(f"{finding.origin} uses the role {finding.principal}, which the template lacks")
            continue
        decision = evaluate(policy, finding.request)
        if decision.allowed and decision.statement and decision.pattern:
            report.allowed[finding] = decision.statement.sid
            report.used.add(decision.pattern)
        else:
            report.denied.append(finding)
    for statements in template.roles.values():
        for statement in statements:
            for pattern in statement.actions:
                if statement.effect == "Allow" and pattern not in report.used:
                    report.unused[pattern] = KEPT.get(pattern)
    return report


def print_report(report: Report, template_path: Path, calls: int) -> None:
    print(f"IAM check of {template_path}: {calls} calls recorded, {len(report.allowed) + len(report.denied)} requests")
    width = max((len(f.principal) for f in report.allowed), default=0)
    print("Authorized (function or role, action, resource, statement):")
    for finding, sid in report.allowed.items():
        print(f"  {finding.principal:<{width}}  {finding.request.action}  {finding.request.resource}  [{sid}]")
    for finding in report.denied:
        print(
            f"DENIED: {finding.principal} may not {finding.request.action} on {finding.request.resource}"
            f" (from {finding.origin})"
        )
    for problem in report.problems:
        print(f"UNCHECKED: {problem}")
    print(f"Functions no flow ran (only their event sources are checked): {', '.join(report.idle) or 'none'}")
    print("Actions in the policy that no flow uses:")
    for pattern, reason in sorted(report.unused.items()):
        print(f"  {pattern}: " + (f"kept, {reason}" if reason else "NOT USED: remove it or cover it with a flow"))
    if not report.unused:
        print("  none")
    verdict = "FAILED" if report.failed else "passed"
    counts = f"{len(report.allowed)} authorized, {len(report.denied)} denied, {len(report.problems)} unchecked"
    print(f"IAM check {verdict}: {counts}")


def run_flows(template: Template, directory: Path) -> None:
    """The e2e flows in a pytest of their own, each runtime recording into ``directory``.

    A flow that failed runs once more: their timing-bound waits (an MCP call's 2 s) can miss on a loaded
    machine, and a flow's own failures are ``make unit``'s to report. What the IAM check needs is every
    flow's calls, so it still stops if a flow fails twice.
    """
    api = template.functions["api_handler"]
    environment = {
        **os.environ,
        CALL_LOG_VARIABLE: str(directory / "calls"),
        # The runtime gets the template's ARNs (the scheduler's role), as a deployed function does.
        **{name: value for name, value in api.environment.items() if value.startswith("arn:")},
    }
    started = time.monotonic()
    command = [sys.executable, "-m", "pytest", "-p", "no:randomly", "-o", f"cache_dir={directory / 'cache'}", "-q"]
    done = subprocess.run([*command, *FLOWS], cwd=PROJECT_DIR, env=environment, check=False)
    if done.returncode != 0:
        print("Flows: running the failed ones once more", flush=True)
        done = subprocess.run([*command, "--last-failed", *FLOWS], cwd=PROJECT_DIR, env=environment, check=False)
    print(f"Flows: {len(FLOWS)} e2e modules, exit {done.returncode}, {time.monotonic() - started:.0f}s")
    if done.returncode != 0:
        raise SystemExit(f"the flows failed (pytest exit {done.returncode}); the IAM check needs them to pass")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", type=Path, help="the packaged template (build/iam/sam.json)")
    parser.add_argument("--calls", type=Path, help="evaluate the calls recorded in this directory; run no flows")
    args = parser.parse_args(argv)
    region = os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    template = load(args.template, region, LOCAL_ACCOUNT)
    if args.calls:
        calls = read_calls(args.calls)
    else:
        with tempfile.TemporaryDirectory(prefix="iam-calls-") as directory:
            run_flows(template, Path(directory))
            calls = read_calls(Path(directory) / "calls")
    report = check(template, calls)
    print_report(report, args.template, len(calls))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())

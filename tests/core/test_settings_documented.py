"""``docs/configuration.md`` lists every environment variable the code reads or a stage sets, and nothing else."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py")), *sorted((ROOT / "infra").rglob("*.py"))]
# os.environ.get("X"), os.environ["X"], getenv("X"), env("X") (env = os.environ.get), _flag("X"), *_VARIABLE = "X".
READS = re.compile(
    r"""(?:os\.environ\.get\(\s*|os\.environ\[|getenv\(\s*|\benv\(\s*|_flag\(\s*|_VARIABLE\s*=\s*)["']([A-Z][A-Z0-9_]*)["']"""
)
DOCUMENTED = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \|", re.MULTILINE)


def read_by_code() -> set[str]:
    names: set[str] = set()
    for source in SOURCES:
        names |= set(READS.findall(source.read_text()))
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())
    names |= set(stages.get("environment_variables", {}))
    for stage in stages["stages"].values():
        names |= set(stage.get("environment_variables", {}))
    return names


def documented() -> set[str]:
    return set(DOCUMENTED.findall((ROOT / "docs" / "configuration.md").read_text()))


def test_every_variable_the_code_reads_is_in_the_table() -> None:
    missing = read_by_code() - documented()
    assert not missing, f"add these to docs/configuration.md: {sorted(missing)}"


def test_the_table_lists_nothing_that_nobody_reads() -> None:
    stale = documented() - read_by_code()
    assert not stale, f"docs/configuration.md lists variables nothing reads: {sorted(stale)}"


def test_the_local_runtimes_own_variables_are_found() -> None:
    """The scan itself: what infra/local reads (ports, schedule scale, key, faults) is picked up."""
    assert {"PORT", "MOTO_PORT", "LOCAL_SCHEDULE_SCALE", "DEV_ISSUER_KEY", "AWS_FAULTS", "AWS_FAULTS_SEED"} <= (
        read_by_code()
    )
    assert {"WEBHOOK_RETRY_SCHEDULE", "RATE_LIMIT_TENANT_PER_MINUTE", "EVENTS_STREAM_ARN"} <= read_by_code()


def test_the_readme_stands_alone_and_follows_port() -> None:
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)]+)\)", readme)
    assert targets and all(not t.startswith(("..", "/", "http")) and (ROOT / t).exists() for t in targets), targets
    assert "../" not in readme
    assert re.findall(r"127\.0\.0\.1:(?!\$\{PORT:-8000\}|\$PORT)", readme) == []  # every URL follows PORT

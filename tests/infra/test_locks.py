"""The locks (``requirements*.txt``, written by ``make lock``) agree with what ``requirements*.in`` ask for.

Each lock must pin, with hashes, exactly the dependency closure of its ``.in``
file: every requirement satisfied by its pin, every pin reached from a
requirement (read from the installed packages' metadata, which ``make venv``
installed from these very locks), the dev lock at the shipped lock's versions,
and this virtualenv at the locked versions. An ``.in`` edited without
``make lock``, or a venv not reinstalled since, fails here (docs/deploy.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)")
RERUN = "run `make lock` (then `make venv`)"


@dataclass(frozen=True)
class Lock:
    pins: dict[str, str]
    unhashed: list[str]


def read_lock(path: Path) -> Lock:
    """Pins and the names of pins without a ``--hash`` (pip's hash-checking mode refuses those)."""
    pins: dict[str, str] = {}
    unhashed: list[str] = []
    entry: str | None = None
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            entry = canonicalize_name(match["name"])
            pins[entry] = match["version"]
            if "--hash=" not in line:
                unhashed.append(entry)
        elif entry is not None and line.strip().startswith("--hash="):
            if entry in unhashed:
                unhashed.remove(entry)
        elif line.strip() and not line.lstrip().startswith(("#", "--hash")):
            raise AssertionError(f"{path.name}: not a pinned, hashed line: {line!r}")
    return Lock(pins, unhashed)


def read_in(path: Path) -> list[Requirement]:
    """The requirements of an ``.in`` file, following ``-r`` (``-c`` only constrains, it asks for nothing)."""
    requirements: list[Requirement] = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-c "):
            continue
        if line.startswith("-r "):
            requirements += read_in(path.parent / line[3:].strip())
        else:
            requirements.append(Requirement(line))
    return requirements


def closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution the requirements reach on this platform (markers evaluate for this Python, which
    is the Lambda runtime's: Linux x86_64, CPython 3.11), from the installed packages' metadata."""
    seen: set[tuple[str, str]] = set()
    reached: set[str] = set()
    pending = [(requirement, "") for requirement in requirements]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        reached.add(name)
        for wanted in {"", *requirement.extras}:
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            try:
                requires = metadata.requires(name) or []
            except metadata.PackageNotFoundError:
                continue  # not installed: reached all the same, and reported if the lock lacks it
            pending += [(Requirement(line), wanted) for line in requires]
    return reached


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@pytest.mark.parametrize("name", ["requirements", "requirements-dev", "requirements-scan"])
def test_every_pin_is_hashed_and_satisfies_the_in_file(name: str) -> None:
    lock = read_lock(ROOT / f"{name}.txt")
    assert lock.pins and lock.unhashed == []
    for requirement in read_in(ROOT / f"{name}.in"):
        pinned = lock.pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement} is not in {name}.txt: {RERUN}"
        assert requirement.specifier.contains(pinned, prereleases=True), f"{name}.txt pins {pinned} for {requirement}"


@pytest.mark.parametrize("name", ["requirements", "requirements-dev"])
def test_the_lock_is_exactly_the_closure_of_the_in_file(name: str) -> None:
    """Also what this venv runs: the scanner's lock lives in .venv-scan, which `make scan` checks itself."""
    lock = read_lock(ROOT / f"{name}.txt")
    stale = {n: (v, installed_version(n)) for n, v in lock.pins.items() if installed_version(n) != v}
    assert stale == {}, f"(locked, installed) differ: run `make venv`: {stale}"
    reached = closure(read_in(ROOT / f"{name}.in"))
    assert sorted(reached - set(lock.pins)) == [], f"reached but not locked: {RERUN}"
    assert sorted(set(lock.pins) - reached) == [], f"locked but nothing asks for it: {RERUN}"


def test_the_dev_lock_runs_the_shipped_versions() -> None:
    shipped = read_lock(ROOT / "requirements.txt").pins
    dev = read_lock(ROOT / "requirements-dev.txt").pins
    assert {name: dev.get(name) for name in shipped} == shipped


def test_a_requirement_the_lock_lacks_is_reported(tmp_path: Path) -> None:
    """The check above can fail: an .in line that no pin satisfies, or no pin at all."""
    (tmp_path / "x.txt").write_text("pydantic==2.14.3 \\\n    --hash=sha256:00\n")
    lock = read_lock(tmp_path / "x.txt")
    assert lock.pins == {"pydantic": "2.14.3"} and lock.unhashed == []
    newer = Requirement("pydantic>=2.15")
    assert not newer.specifier.contains(lock.pins["pydantic"])
    (tmp_path / "y.txt").write_text("pydantic==2.14.3\nrequests==2.34.2 \\\n    --hash=sha256:00\n")
    assert read_lock(tmp_path / "y.txt").unhashed == ["pydantic"]
    assert "annotated-types" in closure([Requirement("pydantic")]) - set(lock.pins)

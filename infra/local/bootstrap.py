"""``make venv``: create ``.venv`` and install the locked requirements, once, however many makes start together.

``make run`` and ``make token`` in two terminals on a fresh clone both find the
virtualenv missing. The first takes an exclusive lock (``.venv.lock`` beside
it) and installs; the second waits for the lock, then finds the install done
and returns. Runs on the system Python before the virtualenv exists, so it uses
the standard library only. Every message goes to stderr: ``make -s token``
prints the token, and only it, on stdout; a failed install exits non-zero, so
``TOKEN=$(make -s token)`` fails rather than capturing garbage.

What it installs is a lock (``make lock``: every package pinned, transitive ones
included, with their hashes), installed in pip's hash-checking mode and from
wheels only, so a fresh machine gets exactly the files that passed here, and no
sdist's build runs unpinned code. An editable project (the SDK) cannot be
hash-checked: it is installed after the lock with ``--no-deps`` (what it needs
is in the lock) and without build isolation (its build backend is in the lock
too, rather than fetched at whatever version is current). docs/deploy.md.
"""

from __future__ import annotations

import argparse
import fcntl
import subprocess
import sys
import venv
from pathlib import Path


def installed(stamp: Path, requirements: list[Path]) -> bool:
    """The stamp is newer than every requirements file (what make itself checks, rechecked under the lock)."""
    if not stamp.exists():
        return False
    done = stamp.stat().st_mtime
    return all(path.stat().st_mtime <= done for path in requirements)


def install(target: Path, requirements: Path, editable: list[Path]) -> None:
    python = target / "bin" / "python"
    if not python.exists():
        print(f"Creating {target} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(target)
    print(f"Installing {requirements} into {target} (first use only) ...", file=sys.stderr)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    locked = ["--require-hashes", "--only-binary", ":all:", "-r", str(requirements)]
    subprocess.run([*pip, *locked], stdout=sys.stderr, check=True)
    for project in editable:
        subprocess.run([*pip, "--no-deps", "--no-build-isolation", "-e", str(project)], stdout=sys.stderr, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make venv", description=__doc__)
    parser.add_argument("target", type=Path, help="the virtualenv directory")
    parser.add_argument("requirements", type=Path, help="the lock to install (pip -r, with hashes)")
    parser.add_argument("also", type=Path, nargs="*", help="files whose change calls for a reinstall")
    parser.add_argument("--editable", type=Path, action="append", default=[], help="a project to install -e")
    args = parser.parse_args(argv)
    stamp = args.target / ".installed"
    watched = [args.requirements, *args.also, *(project / "pyproject.toml" for project in args.editable)]
    with open(args.target.with_name(f"{args.target.name}.lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"Waiting for another make to finish installing {args.target} ...", file=sys.stderr)
            fcntl.flock(lock, fcntl.LOCK_EX)
        if installed(stamp, watched):
            return 0
        try:
            install(args.target, args.requirements, args.editable)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"Installing {args.target} failed: {exc}", file=sys.stderr)
            return 1
        stamp.touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())

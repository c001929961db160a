"""``make package``'s last step: trim ``deployment.zip``, add bytecode, enforce the size budget.

Lambda unpacks the zip into ``/var/task``, which is read-only: Python cannot
cache bytecode there, so a cold start compiles every module it imports, about
twice the import time of the floor (docs/performance.md). So the zip carries
bytecode, compiled by the Lambda runtime's Python (3.11: a ``.pyc`` with another
magic number is ignored and the source compiled again) with ``unchecked-hash``
invalidation: Python loads it without comparing it to the source's modification
time, which unpacking does not preserve.

- Our code (``app.py``, ``chalicelib/``) keeps its sources, with the bytecode in
  ``__pycache__/<module>.cpython-311.pyc`` where Python looks for it, so
  tracebacks of our frames show their lines.
- The libraries ship bytecode only (``<module>.pyc`` in place of ``<module>.py``,
  loaded as sourceless modules): their sources and bytecode together do not fit
  the 8 MB budget. Their traceback frames keep file and line, without the text.
  Their docstrings are left out of that bytecode (``infra.package.docstrings``:
  0.2 MB; their asserts stay).
- Bytecode is compiled with ``-X no_debug_ranges`` (no column tables: tracebacks
  lose the ``^^^`` markers, not the lines) and native extensions are stripped of
  their symbol tables (``strip --strip-unneeded``; the dynamic symbols Python
  loads stay): 0.4 and 0.5 MB of the budget.
- What nothing imports is left out (``infra.package.trim``), and a library's
  ``METADATA`` keeps its headers (name, version, requirements: what
  ``importlib.metadata`` reads) without the long description, its README.
- The same inputs give the same bytes (docs/deploy.md "Reproducible package"):
  the zip Chalice writes carries the times and order in which files landed on
  this disk (its wheel cache, the working tree) and their modes; here every
  entry gets one fixed time, mode and system, in name order. Bytecode depends
  on the source alone (``unchecked-hash`` stores no time; since 3.11 marshal
  writes a set constant's members sorted, not in per-process hash order).

    python -m infra.package.finish build/deployment.zip [--max-mb 8]
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from infra.package.trim import unused

RUNTIME = (3, 11)
MAX_MB = 8.0
MB = 1024 * 1024
OURS = ("app.py", "chalicelib/")
LAMBDA_ROOT = "/var/task"
PROJECT = Path(__file__).resolve().parents[2]  # where ``-m infra.package.docstrings`` imports from
# One time, mode and system for every entry keep the zip identical from one build to the next.
EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16
UNIX = 3


class PackagingError(Exception):
    """The package cannot be finished as Lambda needs it."""


def require_runtime_python(version: tuple[int, int] = (sys.version_info.major, sys.version_info.minor)) -> None:
    if version != RUNTIME:
        wanted = ".".join(map(str, RUNTIME))
        raise PackagingError(
            f"bytecode must be compiled by Python {wanted}, the Lambda runtime's; this is "
            f"{'.'.join(map(str, version))}. Run `make package` with a {wanted} venv."
        )


def ours(name: str) -> bool:
    return name == OURS[0] or name.startswith(OURS[1])


def _compile(root: Path, paths: list[str], *, libraries: bool) -> None:
    """Bytecode for ``paths`` (relative to ``root``): ours by compileall into ``__pycache__``; the libraries'
    modules in place (``x.pyc`` beside ``x.py``) without their docstrings (``infra.package.docstrings``)."""
    if not paths:
        return
    command = [sys.executable, "-X", "no_debug_ranges", "-m"]
    if libraries:
        command += ["infra.package.docstrings", str(root), *paths]
    else:
        command += ["compileall", "-q", "-j", "1", "--invalidation-mode", "unchecked-hash"]
        command += ["-s", str(root), "-p", LAMBDA_ROOT, *(str(root / path) for path in paths)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=PROJECT)
    if done.returncode != 0:
        raise PackagingError(f"compiling failed:\n{done.stdout}{done.stderr}")


def _strip(path: Path) -> None:
    """Drop a native extension's symbol table; without binutils' ``strip`` the file stays as it is."""
    strip = shutil.which("strip")
    if strip is not None:
        subprocess.run([strip, "--strip-unneeded", str(path)], check=True, capture_output=True)


def finish(archive: Path) -> tuple[int, int]:
    """Rewrite ``archive`` in place: trimmed, compiled, stripped; (entries left out, modules compiled)."""
    require_runtime_python()
    with zipfile.ZipFile(archive) as source, tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        kept = [
            info
            for info in source.infolist()
            if not unused(info.filename) and not info.is_dir() and not _stale_bytecode(info.filename)
        ]
        for info in kept:
            source.extract(info, root)
        sources = [info.filename for info in kept if info.filename.endswith(".py")]
        tops = sorted({name.split("/")[0] for name in sources if not ours(name)})
        _compile(root, [name for name in sources if ours(name)], libraries=False)
        _compile(root, tops, libraries=True)
        # A library module ships as its bytecode, beside where its source was; ours add their __pycache__.
        names = [info.filename + "c" * (info.filename.endswith(".py") and not ours(info.filename)) for info in kept]
        ours_compiled = [*root.glob("chalicelib/**/__pycache__/*.pyc"), *root.glob("__pycache__/*.pyc")]
        names += [pyc.relative_to(root).as_posix() for pyc in ours_compiled]
        output = io.BytesIO()
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
            for name in sorted(names):
                if name.endswith(".so"):
                    _strip(root / name)
                content = (root / name).read_bytes()
                if _is_metadata(name):
                    content = metadata_headers(content)
                out.writestr(_entry(name), content)
    archive.write_bytes(output.getvalue())
    return len(source.infolist()) - len(kept), len(sources)


def _is_metadata(name: str) -> bool:
    top, _, rest = name.partition("/")
    return top.endswith(".dist-info") and rest == "METADATA"


def metadata_headers(content: bytes) -> bytes:
    """A ``METADATA`` file up to the blank line that starts its long description (the package's README)."""
    head, separator, _ = content.partition(b"\n\n")
    return head + b"\n" if separator else content


def _stale_bytecode(name: str) -> bool:
    """Bytecode Chalice copied from a working tree (any Python, timestamp-checked): compiled afresh instead."""
    return "__pycache__/" in name or name.endswith(".pyc")


def _entry(name: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=EPOCH)
    entry.external_attr = FILE_MODE
    entry.create_system = UNIX
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


def check_size(archive: Path, max_mb: float = MAX_MB) -> float:
    size = archive.stat().st_size / MB
    if size > max_mb:
        raise PackagingError(f"{archive} is {size:.2f} MB, over the {max_mb:g} MB budget (docs/deploy.md)")
    return size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("archive", type=Path)
    parser.add_argument("--max-mb", type=float, default=MAX_MB)
    args = parser.parse_args(argv)
    try:
        left_out, compiled = finish(args.archive)
        size = check_size(args.archive, args.max_mb)
    except PackagingError as exc:
        print(f"make package: {exc}", file=sys.stderr)
        return 1
    print(f"{args.archive}: {compiled} modules compiled, {left_out} unused entries left out, {size:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

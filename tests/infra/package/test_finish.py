"""``make package``'s finishing step on a small zip: bytecode Python uses from a read-only directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.package.finish import MB, PackagingError, check_size, finish, metadata_headers, require_runtime_python


def build_zip(path: Path, files: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)


def unpack_read_only(archive: Path, into: Path) -> list[Path]:
    with zipfile.ZipFile(archive) as source:
        source.extractall(into)
    for path in [into, *into.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    return sorted(into.rglob("*"))


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    archive = tmp_path / "deployment.zip"
    build_zip(
        archive,
        {
            "app.py": "from chalicelib import thing\nfrom library import helper\nVALUE = thing.VALUE + helper.VALUE\n",
            "chalicelib/__init__.py": "",
            "chalicelib/thing.py": 'VALUE = "ours "\n',
            "library/__init__.py": "",
            "library/helper.py": 'VALUE = "theirs"\n',
            "pycparser/__init__.py": "raise ImportError('left out')\n",
        },
    )
    finish(archive)
    return archive


def test_ours_keep_sources_with_pycache_and_libraries_ship_bytecode(finished: Path) -> None:
    with zipfile.ZipFile(finished) as archive:
        names = set(archive.namelist())
    tag = sys.implementation.cache_tag
    assert {"app.py", f"__pycache__/app.{tag}.pyc"} <= names
    assert {"chalicelib/thing.py", f"chalicelib/__pycache__/thing.{tag}.pyc"} <= names
    assert {"library/__init__.pyc", "library/helper.pyc"} <= names
    assert not {"library/helper.py", "library/__init__.py"} & names
    assert not [name for name in names if name.startswith("pycparser/")]


def test_bytecode_is_used_from_a_read_only_directory_without_writing(finished: Path, tmp_path: Path) -> None:
    task = tmp_path / "task"
    before = unpack_read_only(finished, task)
    # unchecked-hash: Python takes the bytecode without looking at the source, whatever its time or content.
    (task / "chalicelib" / "thing.py").chmod(0o644)
    (task / "chalicelib" / "thing.py").write_text('VALUE = "edited "\n')
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONDONTWRITEBYTECODE", "PYTHONPATH"}}
    done = subprocess.run(
        [sys.executable, "-S", "-c", "import app; print(app.VALUE)"],
        cwd=task,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "ours theirs"
    # Bytecode writing was on: a module compiled from source would have left a new __pycache__ entry.
    assert sorted(task.rglob("*")) == before


def test_refuses_a_python_other_than_the_lambda_runtime() -> None:
    require_runtime_python((3, 11))
    with pytest.raises(PackagingError, match=r"Python 3\.11, the Lambda runtime's; this is 3\.12"):
        require_runtime_python((3, 12))


def test_a_zip_over_the_budget_fails(tmp_path: Path) -> None:
    archive = tmp_path / "deployment.zip"
    archive.write_bytes(b"\0" * (MB + 1))
    assert check_size(archive, max_mb=2) == pytest.approx(1, abs=0.01)
    with pytest.raises(PackagingError, match="over the 1 MB budget"):
        check_size(archive, max_mb=1)


def test_bytecode_from_a_working_tree_is_replaced_not_duplicated(tmp_path: Path) -> None:
    """After a test run, chalicelib/ holds __pycache__: Chalice zips it, and the finish must not add a second copy."""
    archive = tmp_path / "deployment.zip"
    stale = "chalicelib/__pycache__/thing.cpython-311.pyc"
    build_zip(archive, {"chalicelib/__init__.py": "", "chalicelib/thing.py": "VALUE = 1\n", stale: "stale bytes"})
    finish(archive)
    with zipfile.ZipFile(archive) as finished_zip:
        names = finished_zip.namelist()
        assert len(names) == len(set(names))
        assert stale in names and finished_zip.read(stale) != b"stale bytes"


def test_install_records_and_sboms_are_left_out_but_metadata_stays() -> None:
    from infra.package.trim import unused

    assert unused("pydantic-2.14.3.dist-info/RECORD")
    assert unused("pydantic_core-2.50.4.dist-info/sboms/pydantic-core.cyclonedx.json")
    assert not unused("pydantic-2.14.3.dist-info/METADATA")  # importlib.metadata.version reads it
    assert not unused("chalicelib/RECORD")


def test_metadata_keeps_its_headers_and_loses_the_long_description() -> None:
    headers = b"Metadata-Version: 2.4\nName: pydantic\nVersion: 2.14.3\nRequires-Dist: typing-extensions\n"
    assert metadata_headers(headers + b"\n# Pydantic\n\nlong\n") == headers
    headers_only = b"Metadata-Version: 2.1\nName: six\nVersion: 1.17.0\n"
    assert metadata_headers(headers_only) == headers_only


def test_the_same_files_give_the_same_bytes_whatever_their_times_order_and_modes(tmp_path: Path) -> None:
    """What differs between two `chalice package` runs on other days or disks must not reach deployment.zip."""
    members = 16  # a set constant: were it marshalled in string-hash order, 16! orders to differ by
    files = {
        "app.py": "from library import sets\n",
        "chalicelib/__init__.py": "",
        "chalicelib/check.py": f"def known(x: str) -> bool:\n    return x in {set(map(str, range(members)))}\n",
        "library/__init__.py": "",
        "library/sets.py": f"def known(x):\n    return x in {set(map(str, range(members)))}\n",
        "library-1.0.dist-info/METADATA": "Name: library\nVersion: 1.0\n\nREADME\n",
    }
    archives: list[bytes] = []
    for order, date_time, mode in [(1, (2026, 12, 7, 3, 50, 0), 0o644), (-1, (2027, 1, 2, 23, 59, 58), 0o755)]:
        archive = tmp_path / f"{len(archives)}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
            for name, text in list(files.items())[::order]:
                info = zipfile.ZipInfo(name, date_time=date_time)
                info.external_attr = (0o100000 | mode) << 16
                out.writestr(info, text)
        finish(archive)
        archives.append(archive.read_bytes())
    assert archives[0] == archives[1]
    with zipfile.ZipFile(tmp_path / "0.zip") as finished_zip:
        names = finished_zip.namelist()
        assert names == sorted(names) and "library/sets.pyc" in names

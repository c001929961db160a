"""``make venv`` on a fresh clone: makes started together install once, and say everything on stderr."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.e2e.conftest import PROJECT_DIR
from tests.support.waiting import WAIT_SECONDS


def bootstrap(target: Path, requirements: Path, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "infra.local.bootstrap", str(target), str(requirements), *options],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_makes_on_a_fresh_clone_install_once(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# nothing to download\n")
    target = tmp_path / ".venv"
    first, second = bootstrap(target, requirements), bootstrap(target, requirements)
    outputs = [p.communicate(timeout=WAIT_SECONDS) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert [out for out, _ in outputs] == ["", ""]  # stdout stays free for `make -s token`
    errors = "".join(err for _, err in outputs)
    assert errors.count("Creating") == 1 and errors.count("Installing") == 1, errors
    assert (target / "bin" / "python").exists() and (target / ".installed").exists()
    again = bootstrap(target, requirements)
    assert again.communicate(timeout=WAIT_SECONDS) == ("", "") and again.returncode == 0


def test_a_failed_install_exits_non_zero_with_nothing_on_stdout(tmp_path: Path) -> None:
    target = tmp_path / ".venv"
    failed = bootstrap(target, tmp_path / "missing-requirements.txt")
    out, _ = failed.communicate(timeout=WAIT_SECONDS)
    assert failed.returncode != 0 and out == ""
    assert not (target / ".installed").exists()


def wheel(directory: Path) -> Path:
    """A one-module wheel, ``demo``, made here (pip installs a local file as it would a downloaded one)."""
    path = directory / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("demo.py", "VALUE = 'locked'\n")
        archive.writestr("demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
        archive.writestr("demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr("demo-1.0.dist-info/RECORD", "")
    return path


def test_a_file_without_the_locks_hash_is_refused(tmp_path: Path) -> None:
    """Hash-checking mode: a pin without a hash, or another file under the same name and version, does not get in."""
    demo = wheel(tmp_path)
    lock = tmp_path / "requirements.txt"
    target = tmp_path / ".venv"
    for line in (f"{demo}\n", f"{demo} --hash=sha256:{'0' * 64}\n"):
        lock.write_text(line)
        refused = bootstrap(target, lock)
        _, errors = refused.communicate(timeout=180)
        assert refused.returncode != 0 and "HASHES" in errors.upper(), errors
        assert not (target / ".installed").exists()

    lock.write_text(f"{demo} --hash=sha256:{hashlib.sha256(demo.read_bytes()).hexdigest()}\n")
    installed = bootstrap(target, lock)
    _, errors = installed.communicate(timeout=180)
    assert installed.returncode == 0, errors
    python = target / "bin" / "python"
    done = subprocess.run([python, "-c", "import demo; print(demo.VALUE)"], capture_output=True, text=True, check=False)
    assert done.stdout == "locked\n", done.stderr


def test_token_prints_only_the_token_on_stdout_and_the_hint_follows_port(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "infra.local.token", "--tenant", "acme"],
        cwd=PROJECT_DIR,
        env={"PATH": "/usr/bin:/bin", "PORT": "9123", "DEV_ISSUER_KEY": str(tmp_path / "key.pem")},
        capture_output=True,
        text=True,
        check=True,
    )
    [token] = done.stdout.splitlines()
    assert token.count(".") == 2 and " " not in token
    assert "http://127.0.0.1:9123/" in done.stderr and "8000" not in done.stderr

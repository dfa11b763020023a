"""PostgreSQL tests never vanish silently: skips say why, and under CI they fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NEEDS_POSTGRES = """
def test_uses_postgres(postgres_url: str) -> None:
    assert postgres_url
"""


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_needs_postgres.py").write_text(NEEDS_POSTGRES, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_XDIST_WORKER")}
    # Port 1 on loopback: nothing listens, as on a machine without PostgreSQL.
    environ.update(DONDOC_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:1/test")
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, env=environ, timeout=120,
    )  # fmt: skip


def test_without_ci_a_missing_postgres_is_a_skip_with_its_reason(tmp_path: Path) -> None:
    result = _run(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "SKIPPED" in result.stdout and "127.0.0.1:1" in result.stdout


def test_under_ci_a_missing_postgres_fails(tmp_path: Path) -> None:
    result = _run(tmp_path, CI="true")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout
    assert "CI=true expects PostgreSQL" in result.stdout

"""The scripts run on Linux only, and say so up front: ensure-venv.sh, the
first step of every make target that tests or demonstrates and of
scripts/demo.sh, stops at once on another system, before it installs or
starts anything."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_another_system_is_refused_up_front(tmp_path: Path) -> None:
    uname = tmp_path / "uname"  # a Mac's answer
    uname.write_text("#!/bin/sh\necho Darwin\n")
    uname.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "PYTHON": "/nonexistent/python3"}
    result = subprocess.run(
        ["bash", str(ROOT / "tests" / "emulator" / "ensure-venv.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result
    assert "run on Linux only, and this is Darwin" in result.stderr, result.stderr
    assert result.stdout == ""

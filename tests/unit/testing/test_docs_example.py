"""The playbook and test shown in docs/playbooks.md ("Testing a playbook") run as written: copied
into a fresh project and run by pytest, which finds the `playbook_kit` fixture through the
`pytest11` entry point (no conftest, pytest-asyncio in strict mode)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.support.procs import ROOT

DOC = ROOT / "docs" / "playbooks.md"


def example_files() -> dict[str, str]:
    """Each ```python block of the section, by the path named in its first-line comment."""
    section = DOC.read_text().split("## Testing a playbook", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    return {block.split("\n", 1)[0].removeprefix("# "): block for block in blocks}


def test_the_documented_playbook_test_passes(tmp_path: Path) -> None:
    files = example_files()
    assert set(files) == {"my-playbooks/gpu.py", "tests/test_gpu.py"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_gpu.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout, done.stdout

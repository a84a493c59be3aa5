"""The README's library section runs (issue 20 item 6): every ```python block under
``## Library`` is saved as a script and executed with ``python script.py`` in an empty
directory, as a user would (so the sweep block needs its ``__main__`` guard: dask's worker
processes import the script again)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _library_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Library\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


BLOCKS = _library_blocks()


def test_the_library_section_has_the_documented_blocks():
    assert len(BLOCKS) == 3
    assert "bounds.load_data(" in BLOCKS[1] and "req.value" in BLOCKS[1]
    assert 'if __name__ == "__main__":' in BLOCKS[2] and "run_sweep(" in BLOCKS[2]


def _run(block: str, tmp_path: Path, timeout: float) -> str:
    script = tmp_path / "example.py"
    script.write_text(block, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    p = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, text=True,
                       capture_output=True, timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:]
    return p.stdout


@pytest.mark.slow  # ~10 s: a fresh interpreter importing bounds (sympy) and the width solve
def test_readme_user_file_route(tmp_path):
    out = _run(BLOCKS[1], tmp_path, 120)
    assert "lambda0 =" in out and "required width m ≥" in out and "(> 1 fails)" in out


@pytest.mark.slow
def test_readme_library_block(tmp_path):
    out = _run(BLOCKS[0], tmp_path, 600)
    assert "holds" in out or "vacuous" in out


@pytest.mark.slow
def test_readme_sweep_block_as_a_script(tmp_path):
    out = _run(BLOCKS[2], tmp_path, 600)
    assert (tmp_path / "sweeps" / "demo" / "sweep.json").is_file()
    assert "lam_min_G0" in out

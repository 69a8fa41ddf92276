"""The house rules of the design (DESIGN.md in the team folder) that code review alone would
not keep: the import layers (import-linter's contracts in pyproject.toml) and a web process free
of heavy libraries."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("projects", "labeling", "exports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree_copy(tmp_path) -> Path:
    """The packages and pyproject.toml, copied so a test may break a layer without harm."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "violation", "contract"),
    [
        # consensus sits under quality: the submit path must not load the analytics
        (
            "labeling/consensus/resolve.py",
            "from labeling.quality import report",
            "inside labeling: web > quality > annotate > consensus",
        ),
        ("projects/items/create.py", "import labeling.models", "projects imports neither"),
        ("labeling/annotate/queue.py", "import exports.jobs", "labeling does not import exports"),
    ],
)
def test_a_broken_layer_fails_lint(tree_copy, module, violation, contract):
    path = tree_copy / module
    path.write_text(path.read_text() + f"\n{violation}  # noqa\n")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout


def test_a_fresh_web_process_loads_no_heavy_library():
    probe = subprocess.run(
        [sys.executable, str(ROOT / "tests/web_process_probe.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(probe.stdout)
    assert report["heavy_loaded"] == []

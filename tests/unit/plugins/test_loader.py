"""Discovery from directories; every kind of broken playbook stops start-up naming its file."""

import subprocess
import sys
from pathlib import Path

import pytest

from app.errors import PlaybookError
from app.plugins import loader
from app.settings import builtin_playbook_dir
from tests.support.procs import ROOT

GOOD = '''
from app.sdk import Alert, Context, playbook

@playbook(match='alertname="A"')
async def first(alert: Alert, ctx: Context) -> None:
    """First."""
'''

BROKEN = {
    "syntax": ("async def oops(:\n", "SyntaxError"),
    "import": ("import module_that_does_not_exist_42\n", "ModuleNotFoundError"),
    "runtime": ("raise RuntimeError('boom at import')\n", "RuntimeError: boom at import"),
    "signature": (
        "from app.sdk import playbook\n@playbook(match='a=\"1\"')\nasync def pb(alert): ...\n",
        "must take exactly (alert, ctx)",
    ),
    "match": (
        "from app.sdk import playbook\n@playbook(match='a=~\"(\"')\nasync def pb(alert, ctx): ...\n",
        "bad regex",
    ),
    "option": (
        "from app.sdk import playbook\n"
        "@playbook(match='a=\"1\"', colour='red')\nasync def pb(alert, ctx): ...\n",
        "TypeError: playbook() got an unexpected keyword argument 'colour'",
    ),
    "type": (
        "from app.sdk import playbook\n"
        "@playbook(match='a=\"1\"', params=int)\nasync def pb(alert, ctx): ...\n",
        "params must be a pydantic BaseModel",
    ),
}


def test_loads_every_file_sorted_and_skips_private(tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text(GOOD.replace("first", "second"))
    (tmp_path / "a.py").write_text(GOOD)
    (tmp_path / "_helpers.py").write_text("raise RuntimeError('never imported')")
    registry = loader.load([tmp_path], use_entry_points=False)
    assert [s.name for s in registry] == ["first", "second"]
    assert registry.get("first").source == str((tmp_path / "a.py").resolve())  # type: ignore[union-attr]


def test_builtin_playbooks_load() -> None:
    directory = builtin_playbook_dir()
    assert directory is not None
    names = {s.name for s in loader.load([directory], use_entry_points=False)}
    assert {"cost_spike", "daily_cost_exceeded", "user_budget_exceeded"} <= names


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_playbook_names_file_and_problem(tmp_path: Path, kind: str) -> None:
    source, problem = BROKEN[kind]
    path = tmp_path / f"bad_{kind}.py"
    path.write_text(source)
    with pytest.raises(PlaybookError) as info:
        loader.load([tmp_path], use_entry_points=False)
    message = str(info.value)
    assert str(path.resolve()) in message
    assert problem in message


def test_duplicate_across_files_names_both(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(GOOD)
    (tmp_path / "b.py").write_text(GOOD)
    with pytest.raises(PlaybookError) as info:
        loader.load([tmp_path], use_entry_points=False)
    message = str(info.value)
    assert str((tmp_path / "b.py").resolve()) in message
    assert "duplicate playbook name 'first'" in message
    assert str((tmp_path / "a.py").resolve()) in message


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="does not exist"):
        loader.load([tmp_path / "nope"], use_entry_points=False)


def test_serve_refuses_to_start_with_a_broken_playbook(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(BROKEN["signature"][0])
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "AUTONOMIC_PLAYBOOK_DIRS": str(tmp_path), "AUTONOMIC_PORT": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert str((tmp_path / "bad.py").resolve()) in result.stderr
    assert "must take exactly (alert, ctx)" in result.stderr
    assert "Traceback" not in result.stderr


def _install_pack(site: Path, package: str, source: str) -> None:
    """A minimal installed distribution declaring an `autonomic.playbooks` entry point."""
    (site / package).mkdir(parents=True)
    (site / package / "__init__.py").write_text(source)
    info = site / f"{package}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[autonomic.playbooks]\n{package} = {package}\n")


def test_entry_point_packs_are_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_pack(tmp_path, "acme_pack", GOOD.replace("first", "acme_playbook"))
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = loader.load([], use_entry_points=True)
    spec = registry.get("acme_playbook")
    assert spec is not None
    assert "acme_pack" in spec.source


def test_broken_entry_point_names_the_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_pack(tmp_path, "broken_pack", BROKEN["runtime"][0])
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PlaybookError, match=r"entry point 'broken_pack'.*RuntimeError: boom at import"):
        loader.load([], use_entry_points=True)


def test_loading_twice_in_one_process_gives_the_same_playbooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entry-point modules are imported once per process; the loader registers them each time."""
    _install_pack(tmp_path, "twice_pack", GOOD.replace("first", "pack_pb"))
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "mine.py").write_text(GOOD)
    monkeypatch.syspath_prepend(str(tmp_path))
    first = loader.load([tmp_path / "dir"], use_entry_points=True)
    second = loader.load([tmp_path / "dir"], use_entry_points=True)
    assert [s.name for s in first] == [s.name for s in second]
    assert {"first", "pack_pb"} <= {s.name for s in second}
    assert first.get("pack_pb").source == second.get("pack_pb").source  # type: ignore[union-attr]


def test_a_pack_registers_the_playbooks_of_its_submodules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pack's package imports its playbook modules; what they import from others is not theirs."""
    _install_pack(tmp_path, "split_pack", "from . import cost\nfrom .latency import *\n")
    (tmp_path / "split_pack" / "cost.py").write_text(GOOD.replace("first", "pack_cost"))
    (tmp_path / "split_pack" / "latency.py").write_text(
        GOOD.replace("first", "pack_latency") + "from split_pack.cost import pack_cost as borrowed\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for _ in range(2):
        registry = loader.load([], use_entry_points=True)
        assert {"pack_cost", "pack_latency"} <= {s.name for s in registry}


def test_duplicate_names_point_at_the_second_definition(tmp_path: Path) -> None:
    second = '\n@playbook(match=\'alertname="A"\', name="first")\nasync def again(alert, ctx): ...\n'
    (tmp_path / "a.py").write_text(GOOD + second)
    line = (GOOD + second).splitlines().index('@playbook(match=\'alertname="A"\', name="first")') + 1
    with pytest.raises(PlaybookError) as info:
        loader.load([tmp_path], use_entry_points=False)
    assert str(info.value).startswith(f"{(tmp_path / 'a.py').resolve()}:{line}: ")
    assert "duplicate playbook name 'first'" in str(info.value)


def test_a_shadowed_definition_of_the_same_name_is_a_duplicate(tmp_path: Path) -> None:
    """Two `def first` in one file: the second rebinds the name, but both were declared."""
    (tmp_path / "a.py").write_text(GOOD + GOOD.split("\n", 2)[2])
    with pytest.raises(PlaybookError, match="duplicate playbook name 'first'"):
        loader.load([tmp_path], use_entry_points=False)


def test_playbooks_made_in_a_loop_are_all_loaded_and_again_on_a_reload(tmp_path: Path) -> None:
    (tmp_path / "made.py").write_text(
        "from app.sdk import Alert, Context, playbook\n"
        "def make(tier: str):\n"
        "    async def shed(alert: Alert, ctx: Context) -> None: ...\n"
        "    return shed\n"
        "for tier in ('gold', 'silver', 'bronze'):\n"
        "    playbook(match=f'tier=\"{tier}\"', name=f'shed_{tier}')(make(tier))\n"
    )
    for _ in range(2):
        registry = loader.load([tmp_path], use_entry_points=False)
        assert [s.name for s in registry] == ["shed_gold", "shed_silver", "shed_bronze"]

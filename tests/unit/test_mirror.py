"""Tests mirror modules: every module under app/engine, app/plugins, app/actions and app/jobs has
its own unit-test module, tests/unit/<package>/test_<module>.py."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("engine", "plugins", "actions", "jobs")


def test_every_module_has_a_unit_test_module() -> None:
    missing = [
        f"app/{package}/{module.name} -> tests/unit/{package}/test_{module.name}"
        for package in PACKAGES
        for module in sorted((ROOT / "app" / package).glob("*.py"))
        if module.name != "__init__.py"
        and not (ROOT / "tests" / "unit" / package / f"test_{module.name}").is_file()
    ]
    assert not missing, "modules without a unit-test module:\n" + "\n".join(missing)

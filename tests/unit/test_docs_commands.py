"""The CLI examples in the docs name playbooks that exist, with params only where a model takes them."""

from __future__ import annotations

import re
import shlex

from app.plugins import loader
from app.settings import builtin_playbook_dir
from tests.support.procs import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TRIGGER = re.compile(r"autonomic trigger ([a-z][a-z0-9_.-]*)([^`\n]*)")


def test_trigger_examples_name_real_playbooks() -> None:
    builtins = {spec.name: spec for spec in loader.load([builtin_playbook_dir()], use_entry_points=False)}
    ours = {spec.name: spec for spec in loader.load([ROOT / "tests" / "playbooks"], use_entry_points=False)}
    found = 0
    for doc in DOCS:
        text = doc.read_text()
        for name, rest in TRIGGER.findall(text):
            found += 1
            spec = builtins.get(name)
            if spec is None:  # a test playbook is fine when the doc says where it comes from
                spec = ours.get(name)
                assert spec is not None and "tests/playbooks" in text, f"{doc.name}: no playbook {name!r}"
            if "-p" in shlex.split(rest.split("#")[0].replace('"', "'"), posix=False):
                assert spec.params is not None, f"{doc.name}: {name} takes no params"
    assert found >= 2

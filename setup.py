"""Package discovery: every package under app/ is found, and the top-level playbooks/ folder ships as
app.builtin_playbooks (pyproject.toml cannot combine automatic discovery with one remapped folder)."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["app", "app.*"]), "app.builtin_playbooks"],
    package_dir={"app.builtin_playbooks": "playbooks"},
)

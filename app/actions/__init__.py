"""Adapters to the outside systems playbooks act on; each takes its client as an argument."""

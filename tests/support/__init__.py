"""Helpers shared by the test suites: processes, ports, polling for outcomes."""

"""Autonomic: alert-response automation for AI/LLM applications.

Alertmanager posts webhooks; playbooks (Python plugins) mitigate by flipping
Redis feature flags, restarting workloads, paging and posting, and undo what is
reversible when the alert resolves. See README.md and docs/.
"""

__version__ = "0.1.0"

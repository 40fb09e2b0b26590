"""The runtime: durable queue, workers, dispatch of alerts to playbooks, execution records."""

"""Jobs run by the leader's scheduler: the cost exporter, the lease sweeper, data lifecycle."""

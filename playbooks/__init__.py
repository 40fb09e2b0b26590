"""Built-in playbooks. The loader imports each file here by path, exactly like a user's."""

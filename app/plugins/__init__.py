"""The playbook system: decorator and registry, matchers, loader and the Context playbooks use."""

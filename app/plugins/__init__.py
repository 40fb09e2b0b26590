"""The playbook system: decorator and registry, loader and the Context playbooks use."""

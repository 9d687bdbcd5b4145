"""Thin Kubernetes I/O for the operator: one client, one apply function, observation, events."""

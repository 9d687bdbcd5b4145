"""Shared fixtures: the real services are provided by plugins in req1_testenv, used by every suite."""

pytest_plugins = [
    "req1_testenv.pytest_services",
    "req1_testenv.pytest_kube",
]

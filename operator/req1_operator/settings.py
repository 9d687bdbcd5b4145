"""kopf settings for req1-operator, and the run options the CLI hands to the startup handler.

Progress goes to `status.kopf` (preserved by the CRD schema) and the diff base to our own annotation, so no
kopf.zalando.org keys appear on user objects; kopf's per-handler Events are off because the operator posts
its own meaningful ones (phase transitions, user-actionable errors).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import kopf

FINALIZER = "req1.io/finalizer"
PEERING_NAME = "req1-operator"


@dataclass
class RunOptions:
    """What `req1-operator run` was asked for; read by the startup handler."""

    standalone: bool = True
    peering_name: str = PEERING_NAME
    metrics_host: str = "0.0.0.0"
    metrics_port: int = 8080
    timer_interval: float = 60.0
    debounce: float = 0.2


OPTIONS = RunOptions()


def configure(settings: kopf.OperatorSettings, opts: RunOptions) -> None:
    settings.persistence.progress_storage = kopf.StatusProgressStorage(field="status.kopf")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="req1.io", key="last-handled-configuration"
    )
    settings.persistence.finalizer = FINALIZER
    settings.posting.enabled = False
    settings.posting.level = logging.WARNING
    settings.peering.standalone = opts.standalone
    settings.peering.name = opts.peering_name
    settings.peering.mandatory = not opts.standalone
    settings.scanning.disabled = True  # fixed namespaces or cluster-wide: no CRD/namespace watches needed
    settings.watching.server_timeout = 600
    settings.watching.client_timeout = 660
    settings.watching.connect_timeout = 30
    settings.batching.worker_limit = 64
    settings.execution.max_workers = 8
    settings.networking.request_timeout = 60

"""Resource modules: each exposes ``routes = Routes()``; app.py registers every module listed here.

Platform and domain both append to this list (full dotted names, or bare names inside this package).
"""

RESOURCE_MODULES: list[str] = [
    "req1_server.resources.health",
    "req1_server.resources.auth",
    "req1_server.resources.users",
    "req1_server.resources.stubs",
    "req1_server.resources.workspaces",
    "req1_server.resources.projects",
    "req1_server.resources.modules",
    "req1_server.resources.objects",
    "req1_server.resources.search",
    "req1_server.resources.attribute_definitions",
    "req1_server.resources.link_types",
    "req1_server.resources.links",
    "req1_server.resources.baselines",
    "req1_server.resources.baseline_sets",
    "req1_server.resources.views",
    "req1_server.resources.comments",
    "req1_server.resources.attachments",
    "req1_server.resources.traceability",
    "req1_server.resources.validate",
    "req1_server.resources.publish",
    "req1_server.resources.csv_import",
    "req1_server.resources.reqif",
    "req1_server.resources.indicators",
    "req1_server.resources.audit_log",
    "req1_server.resources.object_types",
    "req1_server.resources.lifecycle_models",
    "req1_server.resources.webhooks",
    "req1_server.resources.notifications",
    "req1_server.resources.project_templates",
    "req1_server.resources.reviews",
    "req1_server.resources.change_proposals",
    "req1_server.live",
]

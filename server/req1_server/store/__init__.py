"""The data-access layer: one module per aggregate, holding its SQL and its transactions.

Handlers parse (``typed.py``), authorize (``routing.py``), call a function here and respond; nothing here
knows about HTTP beyond raising the contract's :class:`~req1_server.errors.ApiError`s.
"""

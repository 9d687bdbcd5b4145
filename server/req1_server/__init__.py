"""req1_server."""

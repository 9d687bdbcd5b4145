"""req1_operator."""

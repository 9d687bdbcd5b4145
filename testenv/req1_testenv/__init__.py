"""req1_testenv."""

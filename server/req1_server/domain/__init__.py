"""Pure req1 domain rules: no HTTP, no database, callable from tests and benchmarks alike."""

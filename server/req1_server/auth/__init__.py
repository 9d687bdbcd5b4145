"""Authentication: password hashing, JWTs, Redis login sessions, the request gate and signed links."""

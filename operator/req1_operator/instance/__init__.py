"""The instance manager: PID 1 of every PostgreSQL container, acting on its own pod only.

The operator decides (it writes ``status.targetPrimary`` of the Req1Instance); the manager acts: it bootstraps,
supervises the postmaster, promotes, demotes and rewinds, holds the primary Lease and fences itself when it cannot
renew it, and reports what it observes in its pod's ``req1.io/instance-status`` annotation. The contract is in
docs/postgres-ha.md.
"""

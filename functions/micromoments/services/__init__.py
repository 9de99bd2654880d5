"""Use cases: each composes the domain with the ports it needs."""

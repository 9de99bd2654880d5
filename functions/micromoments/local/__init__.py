"""Embedded runtime for ``micromoments demo`` and ``serve``: local stand-ins and test data.

`micromoments.local.synthetic` generates a seeded, realistic organisation (people, teams,
calendars) for benchmarks and for seeding the local Calendar API server.
"""

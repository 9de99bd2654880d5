"""Adapters: the outer ring that turns files, APIs and services into domain objects.

Each adapter implements a port (see ``micromoments.ports``) or feeds the domain with
normalised values; nothing in ``micromoments.domain`` imports from here.
"""

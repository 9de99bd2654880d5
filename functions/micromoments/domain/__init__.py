"""Pure domain logic: calendar semantics, day loads, settings and the hold planner.

Nothing in this package performs I/O or imports boto3 or googleapiclient.
"""

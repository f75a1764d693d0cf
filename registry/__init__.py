"""The cooperative registry: one identity per cooperative and group, followed from quarter to quarter.

Plain functions over the stored quarters (no Dagster): :mod:`registry.match` joins rows
into identities, :mod:`registry.warnings` compares an identity's quarters,
:mod:`registry.figures` counts what the registry knows, :mod:`registry.build` makes the
tables and :mod:`registry.lookup` finds one cooperative's history.
"""

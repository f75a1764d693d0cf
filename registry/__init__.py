"""The cooperative registry: one identity per cooperative and group, followed from quarter to quarter.

Plain functions over the stored quarters (no Dagster): `registry.match` joins rows
into identities, `registry.warnings` compares an identity's quarters,
`registry.figures` counts what the registry knows, `registry.build` makes the
tables and `registry.lookup` finds one cooperative's history.
"""

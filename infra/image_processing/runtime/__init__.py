"""Code that runs in AWS (Lambda handlers), kept small and unit-tested from tests/infra."""

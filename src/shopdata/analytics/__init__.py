"""The analytics layer: the dbt project under ``analytics/`` and its question catalogue."""

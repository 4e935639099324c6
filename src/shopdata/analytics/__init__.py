"""The analytics layer: the dbt project in ``project/`` (in the package) and its questions."""

"""The platform's jobs as Dagster assets: lineage, schedules, sensors, checks, run history.

``definitions.py`` holds the :class:`dagster.Definitions` (``dagster dev -m
shopdata.orchestration.definitions``); ``assets.py`` the data products, ``checks.py`` their
quality checks, ``automation.py`` when they run, ``resources.py`` the only calls into the other
components, ``rules.py`` the pure decisions. See docs/orchestration.md.

Importing this package imports nothing of Dagster: :mod:`shopdata.config` reads its settings.
"""

"""Files shipped inside the package (SQL, the access policy), found the same way everywhere.

Every SQL file and the access matrix live under ``src/shopdata/<component>/`` and are read with
:mod:`importlib.resources`, so a wheel installed anywhere finds them exactly as a checkout does
(issue 19: they used to be found with ``Path(__file__).parents[3]``, which only a checkout has).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def package_path(package: str, *parts: str) -> Path:
    """A file or folder shipped inside ``package``, as a path on disk.

    setuptools installs wheels unzipped, so the resource is a real file that ``psql -f`` can read.
    """
    return Path(str(resources.files(package).joinpath(*parts)))


def read_sql(package: str, relative: str) -> str:
    """The text of ``<package>/sql/<relative>`` (for example ``analyst/top_items.sql``)."""
    return (
        resources.files(package).joinpath("sql", *relative.split("/")).read_text(encoding="utf-8")
    )

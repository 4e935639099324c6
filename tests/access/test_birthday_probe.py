"""Issue 12.2: no team can recover a member's birthday from anything it can read.

membership_id is ``<last name>_<first 5 hex of sha256(YYYYMMDD)>``: whoever reads it hashes the
~40,000 dates of 1900-2010 and gets the birthday back. The probe is generic: as each team's
login user it lists, from the catalog, *every* column of every table and view it may SELECT
(outside the system schemas) and reads every value. No value may end in ``_`` + the hash prefix
of a date, so a new column or view that carries membership_id fails here without anybody
having to remember this test.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date, timedelta

import psycopg
import pytest
from psycopg import sql

from .conftest import TEAMS, ProofDb

Conn = psycopg.Connection[tuple[object, ...]]
#: The ID's tail: _<5 hex>, optionally _<n> for the n-th person sharing an ID.
TAIL = re.compile(r"_([0-9a-f]{5})(?:_[1-9][0-9]*)?$")

READABLE_COLUMNS = """
select n.nspname, c.relname, a.attname
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
inner join pg_catalog.pg_attribute as a on c.oid = a.attrelid
where c.relkind in ('r', 'p', 'v', 'm', 'f')
    and n.nspname <> 'information_schema' and n.nspname !~ '^pg_'
    and a.attnum > 0 and not a.attisdropped
    and has_column_privilege(c.oid, a.attnum, 'SELECT')
order by 1, 2, 3
"""


def _date_prefixes() -> dict[str, list[date]]:
    prefixes: dict[str, list[date]] = {}
    day = date(1900, 1, 1)
    while day <= date(2010, 12, 31):
        digest = hashlib.sha256(day.strftime("%Y%m%d").encode()).hexdigest()[:5]
        prefixes.setdefault(digest, []).append(day)
        day += timedelta(days=1)
    return prefixes


PREFIXES = _date_prefixes()


def birthday_leaks(conn: Conn) -> tuple[int, list[str]]:
    """(columns read, findings) for the user behind ``conn``."""
    columns = conn.execute(READABLE_COLUMNS).fetchall()
    findings: list[str] = []
    for schema, table, column in columns:
        query = sql.SQL("select distinct {}::text from {}").format(
            sql.Identifier(str(column)), sql.Identifier(str(schema), str(table))
        )
        for (value,) in conn.execute(query).fetchall():
            match = TAIL.search(str(value)) if value is not None else None
            if match and match.group(1) in PREFIXES:
                findings.append(f"{schema}.{table}.{column} = {value!r}")
    return len(columns), findings


def test_the_probe_finds_the_birthdays_the_owner_can_read(owner_conn: Conn) -> None:
    """The probe works: the owner (who may read membership_id) is caught, for all 3 members."""
    with owner_conn.transaction(force_rollback=True):
        _, findings = birthday_leaks(owner_conn)
    members = sorted(f for f in findings if f.startswith("sales.members.membership_id"))
    assert members == [
        "sales.members.membership_id = 'lee_cfcef'",
        "sales.members.membership_id = 'ong_69aba'",
        "sales.members.membership_id = 'tan_f205a'",
    ]


@pytest.mark.parametrize("team", TEAMS)
def test_no_team_reads_a_value_that_encodes_a_birthday(
    team: str,
    proof_db: ProofDb,
    record_check: Callable[[str, int], None],
) -> None:
    user = proof_db.users[team]
    with psycopg.connect(proof_db.user_conninfo(user)) as conn:
        # As a determined insider would: no statement timeout, read every readable column.
        conn.execute("set statement_timeout = 0")
        checked, findings = birthday_leaks(conn)
    assert findings == []
    assert checked > 0
    record_check("birthday probe (columns read)", checked)

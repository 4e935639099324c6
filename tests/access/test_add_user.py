"""``shopdata db add-user``: a real LOGIN role per person, a SCRAM password shown once.

Runs the real command (``shopdata.cli.app``) against the access tests' cluster, whose
``pg_hba.conf`` requires ``scram-sha-256`` for every user but the fixtures' superuser, then logs
in over TCP with the printed password.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from shopdata.access.matrix import Matrix, Team
from shopdata.access.users import NewUser, UserError, add_user, drop_user
from shopdata.cli import app

from .conftest import RUN, ProofDb, owner_url

OUTPUT = re.compile(
    r'Created LOGIN role "(?P<name>[a-z0-9_]+)" in team "(?P<team>[a-z]+)"\.\n'
    r"Its password is shown this once and stored nowhere "
    r"\(the server keeps only a SCRAM-SHA-256 verifier\):\n"
    r"\n"
    r"    (?P<password>[A-Za-z0-9_-]{32})\n"
    r"\n"
    r'Connect with: psql "(?P<conninfo>[^"]+)"\n'
)


@pytest.fixture
def new_name(proof_db: ProofDb) -> Iterator[str]:
    """A login name unique to this test; the role is dropped afterwards whatever happens."""
    name = f"cli_{RUN}_{len(proof_db.name)}"
    yield name
    with psycopg.connect(proof_db.cluster.admin_url, autocommit=True) as conn:
        drop_user(conn, name)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["db", "add-user", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_add_user_creates_a_login_that_works_with_the_printed_password(
    proof_db: ProofDb, new_name: str
) -> None:
    code, out, err = run(new_name, "--team", "logistics", "--database-url", owner_url(proof_db))
    assert (code, err) == (0, "")
    match = OUTPUT.fullmatch(out)
    assert match is not None, out
    assert (match["name"], match["team"]) == (new_name, "logistics")
    port = proof_db.cluster.port
    assert match["conninfo"] == (
        f"host=127.0.0.1 port={port} dbname={proof_db.name} user={new_name}"
        " require_auth=scram-sha-256"
    )

    user = NewUser(new_name, "logistics", match["password"])
    with psycopg.connect(proof_db.user_conninfo(user)) as conn:
        row = conn.execute(
            "select current_user::text, session_user::text, pg_has_role('logistics', 'member'), "
            "(select count(*) from sales.transactions)"
        ).fetchone()
    assert row == (new_name, new_name, True, 3)

    with pytest.raises(psycopg.OperationalError) as raised:
        psycopg.connect(proof_db.user_conninfo(user, password="not-" + user.password))
    assert f'password authentication failed for user "{new_name}"' in str(raised.value)


def test_the_password_is_stored_nowhere(proof_db: ProofDb, new_name: str) -> None:
    """Only a salted SCRAM verifier reaches the server: not the catalog, not the server log."""
    code, out, _ = run(new_name, "--team", "analytics", "--database-url", owner_url(proof_db))
    assert code == 0
    match = OUTPUT.fullmatch(out)
    assert match is not None
    password = match["password"]
    with psycopg.connect(owner_url(proof_db)) as conn:
        row = conn.execute(
            "select rolpassword from pg_authid where rolname = %s", (new_name,)
        ).fetchone()
        log_dir = conn.execute("select current_setting('data_directory')").fetchone()
    assert row is not None and isinstance(row[0], str)
    assert re.fullmatch(
        r"SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+", row[0]
    )
    assert password not in row[0]
    assert log_dir is not None
    log = Path(str(log_dir[0])) / "server.log"
    assert password not in log.read_text(encoding="utf-8", errors="replace")


def test_adding_the_same_user_twice_is_refused(proof_db: ProofDb, new_name: str) -> None:
    url = owner_url(proof_db)
    assert run(new_name, "--team", "sales", "--database-url", url)[0] == 0
    assert run(new_name, "--team", "analytics", "--database-url", url) == (
        1,
        "",
        f'Error: role "{new_name}" already exists\n',
    )


@pytest.mark.parametrize(
    ("name", "team", "message"),
    [
        pytest.param(
            "Alice",
            "sales",
            "Error: invalid user name 'Alice': use 2-63 characters a-z, 0-9 and _, "
            "starting with a letter\n",
            id="upper case",
        ),
        pytest.param(
            "1alice",
            "sales",
            "Error: invalid user name '1alice': use 2-63 characters a-z, 0-9 and _, "
            "starting with a letter\n",
            id="leading digit",
        ),
        pytest.param(
            "bob; drop table x",
            "sales",
            "Error: invalid user name 'bob; drop table x': use 2-63 characters a-z, 0-9 and _, "
            "starting with a letter\n",
            id="sql in the name",
        ),
        pytest.param(
            "a" * 64,
            "sales",
            f"Error: invalid user name '{'a' * 64}': use 2-63 characters a-z, 0-9 and _, "
            "starting with a letter\n",
            id="too long",
        ),
        pytest.param(
            "pg_admin", "sales", "Error: invalid user name 'pg_admin': reserved name\n", id="pg_"
        ),
        pytest.param(
            "analytics",
            "sales",
            "Error: invalid user name 'analytics': reserved name\n",
            id="a team's name",
        ),
        pytest.param(
            "current_user",
            "sales",
            "Error: invalid user name 'current_user': reserved name\n",
            id="current_user",
        ),
        pytest.param(
            "session_user",
            "sales",
            "Error: invalid user name 'session_user': reserved name\n",
            id="session_user",
        ),
        pytest.param(
            "public", "sales", "Error: invalid user name 'public': reserved name\n", id="public"
        ),
        pytest.param(
            "postgres",
            "sales",
            "Error: invalid user name 'postgres': reserved name\n",
            id="the superuser",
        ),
        pytest.param(
            "carol",
            "admins",
            "Error: unknown team 'admins': choose one of analytics, logistics, sales\n",
            id="unknown team",
        ),
    ],
)
def test_bad_arguments_exit_2_before_touching_the_database(
    name: str, team: str, message: str
) -> None:
    # The URL points nowhere: validation must fail first.
    url = "postgresql://postgres@127.0.0.1:1/nowhere"
    assert run(name, "--team", team, "--database-url", url) == (2, "", message)


def test_sql_keywords_are_refused_by_the_servers_list(proof_db: ProofDb) -> None:
    """Keywords beyond the fixed list are looked up on the server; nothing is created."""
    code, out, err = run("select", "--team", "sales", "--database-url", owner_url(proof_db))
    assert (code, out, err) == (
        2,
        "",
        "Error: invalid user name 'select': reserved name (an SQL keyword: reserved)\n",
    )
    with psycopg.connect(owner_url(proof_db)) as conn:
        assert conn.execute(
            "select count(*) from pg_roles where rolname = 'select'"
        ).fetchone() == (0,)


def test_missing_team_is_a_usage_error() -> None:
    code, out, err = run("dave")
    assert (code, out) == (2, "")
    assert "Missing option '--team'" in err


def test_unreachable_server_exits_1() -> None:
    code, out, err = run(
        "erin", "--team", "sales", "--database-url", "postgresql://postgres@127.0.0.1:1/x"
    )
    assert (code, out) == (1, "")
    assert err.startswith("Error: cannot reach the database: ")
    assert err.count("\n") == 1


def test_a_team_member_cannot_add_users(proof_db: ProofDb, new_name: str) -> None:
    """add-user needs a role that may create roles; a team member's own login is refused."""
    user = proof_db.users["logistics"]
    port, db = proof_db.cluster.port, proof_db.name
    url = f"postgresql://{user.name}:{user.password}@127.0.0.1:{port}/{db}"
    assert run(new_name, "--team", "analytics", "--database-url", url) == (
        1,
        "",
        "Error: not allowed to create roles: permission denied to create role\n",
    )
    # An analyst's session is read-only before privileges are even looked at.
    analyst = proof_db.users["analytics"]
    url = url.replace(f"{user.name}:{user.password}", f"{analyst.name}:{analyst.password}")
    assert run(new_name, "--team", "analytics", "--database-url", url) == (
        1,
        "",
        "Error: the database refused: cannot execute CREATE ROLE in a read-only transaction\n",
    )


def test_team_role_missing_from_the_cluster(proof_db: ProofDb, matrix: Matrix) -> None:
    """A team in the matrix whose role 090_roles.sql has not created yet is reported, not made."""
    bigger = matrix.model_copy(
        update={"teams": {**matrix.teams, "finance": Team(description="not deployed")}}
    )
    with psycopg.connect(proof_db.cluster.admin_url, autocommit=True) as conn:
        with pytest.raises(UserError) as raised:
            add_user(conn, f"fin_{RUN}", "finance", bigger)
        exists = conn.execute("select count(*) from pg_roles where rolname = %s", (f"fin_{RUN}",))
        assert exists.fetchone() == (0,)
    assert str(raised.value) == (
        'team role "finance" does not exist in this cluster: apply shopdata/salesdb/sql/initdb/090_roles.sql first'
    )
    # a refusal of the cluster, not a bad argument: `add-user` exits 1 for it, not 2
    assert type(raised.value) is UserError


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings re-read from the environment this test sets (they are cached per process)."""
    from shopdata.config import get_settings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SHOPDATA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_without_url_it_uses_database_url(
    fresh_settings: pytest.MonkeyPatch, proof_db: ProofDb, new_name: str
) -> None:
    fresh_settings.setenv("DATABASE_URL", owner_url(proof_db))
    code, out, err = run(new_name, "--team", "sales")
    assert (code, err) == (0, "")
    assert out.startswith(f'Created LOGIN role "{new_name}" in team "sales".\n')


def test_without_url_it_uses_the_embedded_server(
    fresh_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data_dir = tmp_path / "pgdata"
    fresh_settings.setenv("SHOPDATA_DB__DATA_DIR", str(data_dir))
    assert run("frank", "--team", "sales") == (
        1,
        "",
        f"Error: the embedded database in {data_dir} is not running "
        "(start it with: shopdata db up)\n",
    )

"""The Docker image runs exactly the init files the tests apply, with the same settings."""

from __future__ import annotations

import re

import yaml

from shopdata.salesdb import server

from .helpers import HERE

DB = HERE.parents[1] / "db"


def test_dockerfile_pins_postgres_18_and_copies_the_init_files() -> None:
    text = (DB / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM postgres:18\.\d+$", text, re.MULTILINE)
    assert re.search(r"^COPY .*initdb/\*\.sql /docker-entrypoint-initdb\.d/$", text, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK [^\n]*\\\n\s+CMD \[.*pg_isready", text, re.MULTILINE)


def test_the_image_copies_the_init_files_the_package_ships() -> None:
    """The build context is the repository root; the COPY source is the package's init folder,
    and the context's ignore file lets exactly those files in (issue 19: the SQL moved into
    the package so that an installed wheel has it)."""
    compose = yaml.safe_load((DB / "compose.yml").read_text(encoding="utf-8"))
    build = compose["services"]["salesdb"]["build"]
    assert build == {"context": "..", "dockerfile": "db/Dockerfile"}
    context = (DB / build["context"]).resolve()
    dockerfile = (context / build["dockerfile"]).read_text(encoding="utf-8")
    source = re.search(
        r"^COPY .* (\S+/initdb)/\*\.sql /docker-entrypoint-initdb\.d/$", dockerfile, re.M
    )
    assert source is not None
    assert sorted((context / source[1]).glob("*.sql")) == server.init_files()
    ignore = (DB / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line for line in ignore if line and not line.startswith("#")]
    assert patterns == ["*", f"!{source[1]}/*.sql"]


def test_init_files_have_zero_padded_names() -> None:
    names = [p.name for p in server.init_files()]
    assert names and all(re.fullmatch(r"\d{3}_[a-z0-9_]+\.sql", n) for n in names), names


def test_compose_uses_a_named_volume_local_port_and_the_embedded_settings() -> None:
    compose = yaml.safe_load((DB / "compose.yml").read_text(encoding="utf-8"))
    service = compose["services"]["salesdb"]
    assert service["env_file"] == ".env"
    assert service["ports"] == ["127.0.0.1:${SHOPDATA_DB_PORT:-5432}:5432"]
    assert service["volumes"] == ["salesdb-data:/var/lib/postgresql"]
    assert "salesdb-data" in compose["volumes"]
    command = service["command"]
    assert command[0] == "postgres"
    flags = command[1::2]
    assert set(flags) == {"-c"}
    settings = dict(pair.split("=", 1) for pair in command[2::2])
    assert settings == server.ANALYTICS_SETTINGS


def test_env_example_holds_no_real_secret() -> None:
    lines = (DB / ".env.example").read_text(encoding="utf-8").splitlines()
    values = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert set(values) == {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "SHOPDATA_DB_PORT"}
    assert values["POSTGRES_PASSWORD"].startswith("change-me")

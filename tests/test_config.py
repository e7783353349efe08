"""Configuration from the environment: database URL sources, ADDR, typed values, OIDC settings, secrecy."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from exitus.cli import main
from exitus.config import Config, ConfigError, database_url_from_env

DB = {"PGDATASOURCE": "postgresql://exitus@db.example.com:5432/exitus"}
OIDC = {"OPENID_PROVIDER_URL": "https://idp.example.com", "OAUTH_CLIENT_ID": "exitus-web"}
NASTY_PASSWORD = "p@ss:w/rd%#?&= x"


def rds_secret(**overrides: object) -> str:
    secret: dict[str, object] = {
        "username": "exitus",
        "password": NASTY_PASSWORD,
        "host": "exitus.cluster-abc.eu-west-1.rds.amazonaws.com",
        "port": 5432,
        "dbname": "exitus",
        "engine": "postgres",
    }
    secret.update(overrides)
    return json.dumps({k: v for k, v in secret.items() if v is not None})


def psycopg_args(url: str) -> dict[str, object]:
    """What SQLAlchemy hands psycopg for `url`: the keyword arguments of the actual connection."""
    _args, kwargs = create_engine(url).dialect.create_connect_args(make_url(url))
    kwargs.pop("context", None)
    return kwargs


def config_error(env: dict[str, str], *, need_oidc: bool = True) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        Config.from_env(env, need_oidc=need_oidc)
    return caught.value


# --- the database URL ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_pgdatasource_url_selects_the_psycopg3_driver(scheme):
    url = database_url_from_env({"PGDATASOURCE": f"{scheme}://u:p%40ss@db.example.com:6543/app?sslmode=require"})
    assert url == "postgresql+psycopg://u:p%40ss@db.example.com:6543/app?sslmode=require"
    assert psycopg_args(url) == {
        "host": "db.example.com",
        "port": 6543,
        "dbname": "app",
        "user": "u",
        "password": "p@ss",
        "sslmode": "require",
    }


def test_pgdatasource_libpq_keyword_form_becomes_an_equivalent_url():
    url = database_url_from_env(
        {
            "PGDATASOURCE": f"host=db.example.com port=5433 dbname=app user=exitus password='{NASTY_PASSWORD}' "
            "sslmode=verify-full application_name='a&b'"
        }
    )
    assert url.startswith("postgresql+psycopg://")
    assert make_url(url).password == NASTY_PASSWORD
    assert psycopg_args(url) == {
        "host": "db.example.com",
        "port": 5433,
        "dbname": "app",
        "user": "exitus",
        "password": NASTY_PASSWORD,
        "sslmode": "verify-full",
        "application_name": "a&b",
    }


def test_libpq_keyword_form_with_a_unix_socket_directory():
    url = database_url_from_env({"PGDATASOURCE": "host=/var/run/postgresql port=5433 dbname=exitus user=exitus"})
    assert psycopg_args(url) == {"host": "/var/run/postgresql", "port": "5433", "dbname": "exitus", "user": "exitus"}


def test_libpq_keyword_form_with_an_ipv6_host():
    url = database_url_from_env({"PGDATASOURCE": "host=::1 port=5432 dbname=exitus"})
    assert psycopg_args(url) == {"host": "::1", "port": 5432, "dbname": "exitus"}


def test_libpq_keyword_form_whose_password_contains_a_scheme_separator():
    """BUG (reported): a keyword/value DSN is recognised by the absence of "://", so a password containing it is
    taken for a URL, rejected, and the error message (printed to stderr by the CLI) quotes the password."""
    secret = "tr1cky://pass"
    dsn = f"host=db.example.com dbname=exitus user=exitus password={secret}"
    try:
        url = database_url_from_env({"PGDATASOURCE": dsn})
    except ConfigError as error:
        why = "and the message quotes the password" if "tr1cky" in str(error) else str(error)
        pytest.fail(f"a valid keyword/value DSN was rejected {why}")
    assert psycopg_args(url)["password"] == secret


def test_database_url_is_the_fallback_for_pgdatasource():
    assert database_url_from_env({"DATABASE_URL": "postgres://h/d"}) == "postgresql+psycopg://h/d"
    # a blank PGDATASOURCE counts as unset
    assert database_url_from_env({"PGDATASOURCE": "  ", "DATABASE_URL": "postgres://h/d"}) == "postgresql+psycopg://h/d"


def test_db_secret_with_url_special_characters_in_the_password_round_trips():
    url = database_url_from_env({"DB_SECRET": rds_secret()})
    parsed = make_url(url)
    assert parsed.password == NASTY_PASSWORD
    assert parsed.username == "exitus"
    assert parsed.host == "exitus.cluster-abc.eu-west-1.rds.amazonaws.com"
    assert parsed.port == 5432
    assert parsed.database == "exitus"
    assert psycopg_args(url)["password"] == NASTY_PASSWORD


def test_db_secret_quotes_user_and_database_too():
    url = database_url_from_env({"DB_SECRET": rds_secret(username="ad@min:1", dbname="my/db")})
    assert psycopg_args(url) == {
        "host": "exitus.cluster-abc.eu-west-1.rds.amazonaws.com",
        "port": 5432,
        "dbname": "my/db",
        "user": "ad@min:1",
        "password": NASTY_PASSWORD,
    }


def test_db_secret_defaults_port_and_database():
    url = database_url_from_env({"DB_SECRET": rds_secret(port=None, dbname=None, engine=None)})
    parsed = make_url(url)
    assert (parsed.port, parsed.database) == (5432, "postgres")


@pytest.mark.parametrize("engine", ["postgres", "postgresql", "aurora-postgresql"])
def test_db_secret_accepts_postgresql_engines(engine):
    assert make_url(database_url_from_env({"DB_SECRET": rds_secret(engine=engine)})).password == NASTY_PASSWORD


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        (rds_secret(password=None), "missing password"),
        (rds_secret(username=None, host=None), "missing username, host"),
        (rds_secret(password=""), "missing password"),
        ("{not json", "not valid JSON"),
        ('["a", "list"]', "must be a JSON object"),
        (rds_secret(engine="mysql"), "'mysql' is not PostgreSQL"),
    ],
)
def test_bad_db_secret_is_a_config_error_without_the_password(secret, problem):
    with pytest.raises(ConfigError) as caught:
        database_url_from_env({"DB_SECRET": secret})
    assert caught.value.variable == "DB_SECRET"
    assert problem in str(caught.value)
    assert NASTY_PASSWORD not in str(caught.value)


def test_sources_are_tried_in_order_pgdatasource_database_url_db_secret():
    everything = {
        "PGDATASOURCE": "postgres://first/db",
        "DATABASE_URL": "postgres://second/db",
        "DB_SECRET": rds_secret(host="third"),
    }
    assert make_url(database_url_from_env(everything)).host == "first"
    del everything["PGDATASOURCE"]
    assert make_url(database_url_from_env(everything)).host == "second"
    del everything["DATABASE_URL"]
    assert make_url(database_url_from_env(everything)).host == "third"
    del everything["DB_SECRET"]
    with pytest.raises(ConfigError) as caught:
        database_url_from_env(everything)
    assert caught.value.variable == "PGDATASOURCE"
    assert "DATABASE_URL" in str(caught.value) and "DB_SECRET" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("mysql://u:hunter2@h/db", "unsupported scheme 'mysql'"),
        ("postgres://", "no host or database"),
        ("this is not a dsn", "neither a postgres:// URL nor a libpq"),
    ],
)
def test_malformed_datasource_is_a_config_error_naming_the_variable(value, problem):
    error = config_error({"DATABASE_URL": value, **OIDC})
    assert error.variable == "DATABASE_URL"
    assert problem in str(error)
    assert "hunter2" not in str(error)


# --- ADDR ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("addr", "host", "port"),
    [
        (None, "0.0.0.0", 8080),
        (":8080", "0.0.0.0", 8080),
        ("127.0.0.1:9000", "127.0.0.1", 9000),
        ("[::1]:8080", "::1", 8080),
        ("localhost:0", "localhost", 0),
    ],
)
def test_addr_is_host_and_port(addr, host, port):
    env = {**DB, **OIDC, **({"ADDR": addr} if addr is not None else {})}
    config = Config.from_env(env)
    assert (config.host, config.port) == (host, port)


@pytest.mark.parametrize(
    ("addr", "problem"),
    [("8080", "not host:port"), ("localhost:http", "not a number"), (":65536", "out of range"), (":-1", "range")],
)
def test_bad_addr_is_a_config_error(addr, problem):
    error = config_error({**DB, **OIDC, "ADDR": addr})
    assert error.variable == "ADDR"
    assert problem in str(error)


# --- typed values ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), (" YES ", True), ("on", True), ("0", False), ("False", False), ("", False)],
)
def test_debug_is_a_boolean(value, expected):
    assert Config.from_env({**DB, **OIDC, "DEBUG": value}).debug is expected


def test_booleans_keep_their_defaults_when_unset():
    config = Config.from_env({**DB, **OIDC})
    assert config.debug is False
    assert config.swagger_ui is True


def test_a_non_boolean_is_a_config_error():
    error = config_error({**DB, **OIDC, "SWAGGER_UI": "maybe"})
    assert error.variable == "SWAGGER_UI"
    assert "'maybe' is not a boolean" in str(error)


def test_numbers_are_parsed():
    config = Config.from_env(
        {**DB, **OIDC, "DB_POOL_SIZE": "25", "DB_POOL_TIMEOUT": "2.5", "STATEMENT_TIMEOUT_MS": "0"}
    )
    assert (config.db_pool_size, config.db_pool_timeout, config.statement_timeout_ms) == (25, 2.5, 0)


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("DB_POOL_SIZE", "0", "outside 1..1000"),
        ("DB_POOL_SIZE", "1001", "outside 1..1000"),
        ("DB_POOL_SIZE", "ten", "not an integer"),
        ("DB_POOL_SIZE", "2.5", "not an integer"),
        ("STATEMENT_TIMEOUT_MS", "-1", "outside 0..3600000"),
        ("STATEMENT_TIMEOUT_MS", "3600001", "outside 0..3600000"),
        ("DB_POOL_TIMEOUT", "0.01", "below 0.1"),
        ("DB_POOL_TIMEOUT", "soon", "not a number"),
    ],
)
def test_out_of_range_or_malformed_numbers_are_config_errors(name, value, problem):
    error = config_error({**DB, **OIDC, name: value})
    assert error.variable == name
    assert problem in str(error)


def test_blank_strings_fall_back_to_defaults():
    config = Config.from_env({**DB, **OIDC, "TENANT_CLAIM": " ", "STAGE": "", "BRANCH": "", "DB_POOL_SIZE": " "})
    assert (config.tenant_claim, config.stage, config.branch) == ("customer_id", "local", "main")
    assert config.db_pool_size == 10


# --- OpenID Connect --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["OPENID_PROVIDER_URL", "OAUTH_CLIENT_ID"])
def test_missing_oidc_settings_are_config_errors_naming_the_variable(missing):
    env = {**DB, **OIDC}
    del env[missing]
    error = config_error(env)
    assert error.variable == missing
    assert str(error).startswith(f"{missing}: is required")


def test_oidc_settings_are_not_needed_for_database_work():
    config = Config.from_env(DB, need_oidc=False)
    assert config.openid_provider_url == ""
    assert config.oauth_client_ids == ()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9400", "http://localhost:9400", "http://[::1]:9400", "https://idp.example.com"]
)
def test_plain_http_issuer_is_allowed_for_loopback_only(url):
    assert Config.from_env({**DB, **OIDC, "OPENID_PROVIDER_URL": url}).openid_provider_url == url


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://idp.example.com", "must use https"),
        ("http://10.0.0.1:9400", "must use https"),
        ("ftp://idp.example.com", "must be an http(s) URL"),
        ("idp.example.com", "must be an http(s) URL"),
    ],
)
def test_other_issuer_urls_are_config_errors(url, problem):
    error = config_error({**DB, **OIDC, "OPENID_PROVIDER_URL": url})
    assert error.variable == "OPENID_PROVIDER_URL"
    assert problem in str(error)


def test_issuer_url_is_kept_exactly_but_trimmed_of_whitespace():
    # `iss` must equal the issuer exactly, and some providers' issuers end in "/" (Auth0)
    config = Config.from_env({**DB, **OIDC, "OPENID_PROVIDER_URL": " https://idp.example.com/ "})
    assert config.openid_provider_url == "https://idp.example.com/"


def test_client_ids_are_comma_separated():
    config = Config.from_env({**DB, **OIDC, "OAUTH_CLIENT_ID": " web , cli,, mobile "})
    assert config.oauth_client_ids == ("web", "cli", "mobile")


def test_only_commas_is_no_client_id():
    assert config_error({**DB, **OIDC, "OAUTH_CLIENT_ID": " , "}).variable == "OAUTH_CLIENT_ID"


# --- secrecy ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env",
    [
        {"DB_SECRET": rds_secret()},
        {"PGDATASOURCE": "postgresql://exitus:hunter2-secret@db/exitus"},
        {"PGDATASOURCE": "host=db user=exitus password=hunter2-secret dbname=exitus"},
    ],
)
def test_repr_never_contains_the_database_password(env):
    config = Config.from_env({**env, **OIDC})
    password = make_url(config.database_url).password
    assert password
    assert password not in repr(config)
    assert "hunter2" not in repr(config) and "p@ss" not in repr(config)
    assert "database_url" not in repr(config)


# --- end to end ------------------------------------------------------------------------------------------------


def test_db_secret_connects_end_to_end(postgres, database_url, monkeypatch, capsys):
    for name in ("PGDATASOURCE", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    # The test cluster trusts local connections: the password is sent in the URL and ignored by the server.
    secret = {
        "username": "exitus",
        "password": NASTY_PASSWORD,
        "host": "127.0.0.1",
        "port": postgres.port,
        "dbname": make_url(database_url).database,
        "engine": "postgres",
    }
    monkeypatch.setenv("DB_SECRET", json.dumps(secret))
    assert main(["migrate", "status"]) == 0
    assert "applied  0001.schema" in capsys.readouterr().out.splitlines()


# --- trusted proxies (exitus/client.py) ----------------------------------------------------------------------------


def test_trusted_proxies_are_addresses_and_networks_and_none_by_default():
    assert Config.from_env({**DB, **OIDC}).trusted_proxies == ()
    config = Config.from_env({**DB, **OIDC, "TRUSTED_PROXIES": " 10.0.0.0/8, 127.0.0.1 ,::1"})
    assert config.trusted_proxies == ("10.0.0.0/8", "127.0.0.1", "::1")


def test_a_trusted_proxy_that_is_not_an_address_is_refused():
    error = config_error({**DB, **OIDC, "TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"})
    assert error.variable == "TRUSTED_PROXIES"
    assert "'proxy.internal' is not an IP address or network" in str(error)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PGDATASOURCE", "postgresql://exitus:hunter2-secret@db:notaport/exitus"),
        ("DATABASE_URL", "postgresql://exitus:hunter2-secret@[::1/exitus"),
        ("DB_SECRET", json.dumps({"username": "u", "password": "hunter2-secret", "host": "db", "port": "x"})),
    ],
)
def test_a_database_url_that_cannot_be_parsed_is_refused_at_once_without_its_password(name, value):
    error = config_error({name: value, **OIDC})
    assert error.variable == name
    assert "not a valid database URL" in str(error) and "hunter2" not in str(error)


def test_idempotency_keys_live_a_day_unless_configured_within_a_second_and_thirty_days():
    assert Config.from_env({**DB, **OIDC}).idempotency_key_ttl_seconds == 86_400
    assert Config.from_env({**DB, **OIDC, "IDEMPOTENCY_KEY_TTL_SECONDS": "600"}).idempotency_key_ttl_seconds == 600
    for bad in ("0", "2592001", "a day"):
        assert (
            config_error({**DB, **OIDC, "IDEMPOTENCY_KEY_TTL_SECONDS": bad}).variable == "IDEMPOTENCY_KEY_TTL_SECONDS"
        )

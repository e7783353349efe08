import pytest

from .support import Synth, make_config


@pytest.fixture(scope="session")
def dev(tmp_path_factory) -> Synth:
    return Synth(make_config(STAGE="dev", BRANCH="feature-x"), tmp_path_factory.mktemp("dev"))


@pytest.fixture(scope="session")
def prod(tmp_path_factory) -> Synth:
    return Synth(make_config(STAGE="prod"), tmp_path_factory.mktemp("prod"))


@pytest.fixture(scope="session")
def app_role(tmp_path_factory) -> Synth:
    """Prod once the service connects as its own role (SERVICE_DB_SECRET=app), with an alarm email."""
    config = make_config(STAGE="prod", SERVICE_DB_SECRET="app", ALARM_EMAIL="oncall@example.com")
    return Synth(config, tmp_path_factory.mktemp("app-role"))


@pytest.fixture(scope="session", params=["dev", "prod"])
def any_stage(request) -> Synth:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="session", params=["dev", "prod", "app_role"])
def every_variant(request) -> Synth:
    return request.getfixturevalue(request.param)

import pytest

from .support import Synth, make_config


@pytest.fixture(scope="session")
def dev(tmp_path_factory) -> Synth:
    return Synth(make_config(STAGE="dev", BRANCH="feature-x"), tmp_path_factory.mktemp("dev"))


@pytest.fixture(scope="session")
def prod(tmp_path_factory) -> Synth:
    return Synth(make_config(STAGE="prod"), tmp_path_factory.mktemp("prod"))


@pytest.fixture(scope="session", params=["dev", "prod"])
def any_stage(request) -> Synth:
    return request.getfixturevalue(request.param)

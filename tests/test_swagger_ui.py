"""Swagger UI as a person uses it: in a real browser (Debian's Chromium, driven by Playwright), against the suite's
running exitus and dev issuer. Screenshots are kept in artifacts/swagger-ui/ (ignored by git) for a person to look at.

Chromium missing fails the tests with the package to install, never skips them: `make test` installs it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from jose import jwt
from playwright.sync_api import Browser, Page, Request, expect, sync_playwright

from exitus.app import create_app
from exitus.config import Config
from exitus.db import array
from tests.conftest import RunningServer, Tenant
from tests.interop.conftest import OidcProvider

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts" / "swagger-ui"
UI_TIMEOUT_MS = 60_000  # two shared cores: Swagger UI's first render of the whole spec can take seconds


def chromium_executable() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(
        "Chromium is not installed: the Swagger UI tests drive Debian's `chromium` package "
        "(apt-get install chromium; `make test` installs it)"
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_executable()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    context.set_default_timeout(UI_TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def open_operation(page: Page, tag: str, operation_id: str):
    block = page.locator(f"#operations-{tag}-{operation_id}")
    block.locator(".opblock-summary").first.click()
    block.get_by_role("button", name="Try it out").click()
    return block


def execute(page: Page, block) -> str:
    """Press Execute (after Clear, if an earlier response is shown); the status code the page then shows."""
    clear = block.get_by_role("button", name="Clear")
    if clear.count():
        clear.click()
    status = block.locator(".live-responses-table .response .response-col_status")
    expect(status).to_have_count(0)
    with page.expect_response(lambda response: "/v1/" in response.url):
        block.get_by_role("button", name="Execute").click()
    expect(status.first).to_have_text(re.compile(r"\d{3}"))
    return status.first.inner_text().strip()


def test_without_chromium_the_tests_fail_naming_the_package(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install chromium"):
        chromium_executable()


def test_the_served_spec_names_this_server(http):
    for document in (http.get("/openapi.json").json(), yaml.safe_load(http.get("/openapi.yaml").text)):
        assert document["servers"] == [{"url": "/", "description": "this server"}]


def test_behind_a_path_prefix_the_server_is_the_prefix(config):
    with create_app(config).test_client(root_path="/exitus") as client:
        assert client.get("/openapi.json").json()["servers"] == [{"url": "/exitus/", "description": "this server"}]


def test_the_oauth2_redirect_page_is_served(http):
    response = http.get("/ui/oauth2-redirect.html")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swaggerUIRedirectOauth2" in response.text  # hands the code back to the Swagger UI window that opened it


def test_without_a_client_id_the_ui_still_asks_for_pkce(http):
    page = http.get("/ui/").text
    (init_oauth,) = re.findall(r"ui\.initOAuth\(\s*(\{.*?\})\s*\)", page, re.DOTALL)
    assert json.loads(init_oauth) == {"usePkceWithAuthorizationCodeGrant": True}


def test_try_it_out_lists_and_creates_projects_with_a_pasted_token(page: Page, server: RunningServer, tenant: Tenant):
    page.goto(f"{server.url}/ui/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("exitus")

    # The Servers list names this server.
    expect(page.locator(".servers select option").first).to_have_text("/ - this server")

    # Without a token: 401, shown on the page.
    projects = open_operation(page, "projects", "list_projects")
    assert execute(page, projects) == "401"

    # Authorize: paste a dev token into the bearer field.
    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    bearer = dialog.locator(".auth-container").filter(has_text="bearerAuth")
    bearer.locator("input").fill(tenant.token())
    bearer.get_by_role("button", name="Authorize", exact=True).click()
    expect(bearer.get_by_role("button", name="Logout")).to_be_visible()
    screenshot(page, "authorize-dialog", full_page=False)
    dialog.get_by_role("button", name="Close").first.click()

    assert execute(page, projects) == "200"
    listed = json.loads(projects.locator(".live-responses-table .response-col_description pre").first.inner_text())
    assert listed["projects"] == []  # a fresh tenant: its own (empty) list, not another's

    create = open_operation(page, "projects", "create_project")
    sent = json.loads(create.locator("textarea.body-param__text").input_value())  # the example, sent as it is
    assert execute(page, create) == "201"
    screenshot(page, "try-it-out")

    # The service has it, as the caller's customer's project.
    stored = tenant.api().get("/v1/projects").json()["projects"]
    assert [(p["name"], p["labels"]) for p in stored] == [(sent["name"], sent["labels"])]


# --- Logging in through the Authorize dialog: authorization code with PKCE, at a real provider -----------------------
# exitus's dev issuer (`make run`) only mints tokens: it has no login. The interop tests' provider (oidc-provider,
# infra/local/oidc-provider) has one when given a public client: its development login page takes any user.
PUBLIC_CLIENT_ID = "exitus-swagger-ui"


@dataclasses.dataclass
class LoginStack:
    provider: OidcProvider
    server: RunningServer
    customer_id: str


@pytest.fixture(scope="module")
def login_stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoginStack]:
    provider = OidcProvider(tmp_path_factory.mktemp("oidc-login"))
    config = Config.from_env(
        {
            "PGDATASOURCE": database_url,
            "OPENID_PROVIDER_URL": provider.issuer,
            # Only the Swagger UI client's tokens: a token that gets in came from the login below.
            "OAUTH_CLIENT_ID": PUBLIC_CLIENT_ID,
            "SWAGGER_UI_CLIENT_ID": PUBLIC_CLIENT_ID,
            "STAGE": "test",
        }
    )
    app = create_app(dataclasses.replace(config, db_pool_size=2), validate_responses=True)
    customer = app.database.queries.create_customer(
        name=f"swagger ui login {uuid.uuid4()}", description="tests/test_swagger_ui.py", labels=array([])
    )
    server = RunningServer(app)  # its port is chosen now: the provider must know the redirect URI
    provider.extra_env = {
        "OIDC_PUBLIC_CLIENT_ID": PUBLIC_CLIENT_ID,
        "OIDC_PUBLIC_REDIRECT_URIS": f"{server.url}/ui/oauth2-redirect.html",
    }
    provider.start(customer_id=str(customer["id"]))
    try:
        server.start()
        yield LoginStack(provider, server, str(customer["id"]))
    finally:
        server.stop()
        provider.stop()


def test_log_in_with_authorization_code_and_pkce(page: Page, login_stack: LoginStack):
    page.goto(f"{login_stack.server.url}/ui/")
    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    oidc = dialog.locator(".auth-container").filter(has_text="authorization_code with PKCE")  # usePkce...
    expect(oidc.locator("input#client_id")).to_have_value(PUBLIC_CLIENT_ID)  # from SWAGGER_UI_CLIENT_ID
    for scope in ("exitus/project.read", "exitus/project.write"):
        oidc.locator(f'input[data-value="{scope}"] + label').click()
    screenshot(page, "login-dialog", full_page=False)

    to_provider: list[Request] = []
    page.context.on(
        "request", lambda r: to_provider.append(r) if r.url.startswith(login_stack.provider.issuer) else None
    )
    with page.expect_popup() as opened:
        oidc.get_by_role("button", name="Authorize", exact=True).click()
    popup = opened.value
    popup.locator("input[name=login]").fill("ada")
    popup.locator("input[name=password]").fill("any password: the development login takes it")
    screenshot(popup, "login-page", full_page=False)
    popup.locator("button[type=submit]").click()
    popup.locator("button[type=submit]").click()  # consent: Continue
    expect(oidc.get_by_role("button", name="Logout")).to_be_visible()
    dialog.get_by_role("button", name="Close").first.click()

    # PKCE: a S256 challenge went out, its verifier came back with the code, and no client secret exists.
    (authorize,) = [r for r in to_provider if urllib.parse.urlsplit(r.url).path == "/auth"]
    authorization = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize.url).query)
    assert authorization["client_id"] == [PUBLIC_CLIENT_ID]
    assert authorization["response_type"] == ["code"]
    assert authorization["code_challenge_method"] == ["S256"] and authorization["code_challenge"][0]
    (token,) = [r for r in to_provider if r.url == f"{login_stack.provider.issuer}/token" and r.method == "POST"]
    exchange = urllib.parse.parse_qs(token.post_data or "")
    assert exchange["grant_type"] == ["authorization_code"] and exchange["code_verifier"][0]
    assert "client_secret" not in exchange

    projects = open_operation(page, "projects", "list_projects")
    with page.expect_request(lambda request: urllib.parse.urlsplit(request.url).path == "/v1/projects") as sent:
        assert execute(page, projects) == "200"
    claims = jwt.get_unverified_claims(sent.value.headers["authorization"].removeprefix("Bearer "))
    assert claims["client_id"] == PUBLIC_CLIENT_ID
    assert claims["sub"] == "ada"
    assert claims["customer_id"] == login_stack.customer_id
    assert set(claims["scope"].split()) == {"exitus/project.read", "exitus/project.write"}
    screenshot(page, "logged-in-try-it-out")

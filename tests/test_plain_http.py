"""No password in cleartext: plain http:// is refused outside loopback unless explicitly allowed.

The allowed case is run for real: the worker reaches a sandbox through an HTTP proxy (the
sandbox itself, which serves absolute-form request lines), so the URL's host is not loopback.
"""

from __future__ import annotations

import threading

import pytest

from etiu_worker.config import is_loopback, load_settings
from etiu_worker.errors import ConfigError
from integration_helpers import PASSWORD, describe, etiu, output, sandbox, start_etiu, wait_for, worker_env  # noqa: F401

REMOTE = "http://acme.service-now.com"
REFUSAL = (
    "invalid setting servicenow.url: '{url}' would send the credentials in cleartext: use https://, "
    "or set servicenow.allow_insecure_http = true (ETIU_SERVICENOW__ALLOW_INSECURE_HTTP) for a network "
    "you trust; set it with ETIU_SERVICENOW__URL"
)
WARNING = "credentials travel in cleartext over plain HTTP (servicenow.allow_insecure_http = true)"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(__import__("os").environ):
        if name.upper().startswith("ETIU_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("url", [REMOTE, "http://10.0.0.5:8080", "http://[fd00::2]", "http://127.0.0.1.nip.io",
                                 "http://localhost.acme.com"])
def test_plain_http_to_a_host_outside_loopback_is_refused_with_the_setting_to_change(monkeypatch, url):
    monkeypatch.setenv("ETIU_SERVICENOW__URL", url)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == REFUSAL.format(url=url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://127.9.8.7", "http://localhost:8080",
                                 "http://LOCALHOST", "http://[::1]:8080", "https://acme.service-now.com",
                                 "https://10.0.0.5"])
def test_https_and_plain_http_on_loopback_are_accepted(monkeypatch, url):
    monkeypatch.setenv("ETIU_SERVICENOW__URL", url)
    settings = load_settings()
    assert settings.servicenow.url == url
    assert not settings.servicenow.insecure_http


@pytest.mark.parametrize("where", ["environment", "file"])
def test_plain_http_outside_loopback_is_accepted_when_allowed(monkeypatch, tmp_path, where):
    monkeypatch.setenv("ETIU_SERVICENOW__URL", REMOTE)
    config = None
    if where == "environment":
        monkeypatch.setenv("ETIU_SERVICENOW__ALLOW_INSECURE_HTTP", "true")
    else:
        config = tmp_path / "config.toml"
        config.write_text("[servicenow]\nallow_insecure_http = true\n")
    settings = load_settings(config)
    assert settings.servicenow.url == REMOTE and settings.servicenow.insecure_http


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.255.255.254", True), ("::1", True),
                                            ("localhost", True), ("128.0.0.1", False), ("::2", False),
                                            ("example.com", False)])
def test_loopback_is_127_slash_8_ipv6_one_and_localhost(host, loopback):
    assert is_loopback(host) is loopback


def test_run_refuses_a_remote_plain_http_url_with_exit_3_before_any_request(tmp_path):
    result = etiu(["run", "--once"], worker_env(tmp_path, url=REMOTE))
    assert result.returncode == 3, describe(result)
    assert result.stderr.splitlines()[0] == f"etiu-worker: ConfigError: {REFUSAL.format(url=REMOTE)}"
    assert PASSWORD not in output(result)


def proxied_env(tmp_path, sandbox, **settings):
    """A worker whose URL names a remote host, reached through the sandbox acting as HTTP proxy."""
    env = worker_env(tmp_path, sandbox, url="http://etiu-sandbox.example.test", **settings)
    env["HTTP_PROXY"] = env["http_proxy"] = sandbox.url
    return env


def test_allowed_plain_http_warns_on_every_cycle(tmp_path, sandbox):
    env = proxied_env(tmp_path, sandbox, SERVICENOW__ALLOW_INSECURE_HTTP="true", WORKER__POLL_INTERVAL="0.2",
                      WORKER__JITTER="0")
    process = start_etiu(["run"], env)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stderr.readline, "")), daemon=True)
    reader.start()
    try:
        wait_for(lambda: sum(WARNING in line for line in lines) >= 3, timeout=60,
                 what="the cleartext warning on three cycles")
    finally:
        process.terminate()
        process.wait(timeout=30)
        reader.join(timeout=10)
    assert sandbox.requests[("GET", "u_etiu_ticket")] >= 3  # it did reach the instance every cycle
    assert PASSWORD not in "".join(lines)


def test_allowed_plain_http_runs_a_cycle_with_the_warning(tmp_path, sandbox):
    result = etiu(["run", "--once"], proxied_env(tmp_path, sandbox, SERVICENOW__ALLOW_INSECURE_HTTP="true"))
    assert result.returncode == 0, describe(result)
    assert result.stderr.count(WARNING) == 1
    assert sandbox.requests[("GET", "u_etiu_ticket")] >= 1


def test_the_proxy_route_is_refused_without_the_setting(tmp_path, sandbox):
    result = etiu(["run", "--once"], proxied_env(tmp_path, sandbox))
    assert result.returncode == 3, describe(result)
    assert sandbox.requests == {}

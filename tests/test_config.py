import re
from pathlib import Path

import pytest

from etiu_worker.config import ServiceNowSettings, Settings, _known_paths, load_settings, schema_key_for_table
from etiu_worker.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(__import__("os").environ):
        if name.upper().startswith("ETIU_"):
            monkeypatch.delenv(name)


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_environment_alone_configures_the_worker(monkeypatch, tmp_path):
    monkeypatch.setenv("ETIU_SERVICENOW__URL", "http://127.0.0.1:8080")
    monkeypatch.setenv("ETIU_SERVICENOW__USER", "admin")
    monkeypatch.setenv("ETIU_SERVICENOW__PASSWORD", "s3cret")
    monkeypatch.setenv("ETIU_STATE__DIR", str(tmp_path / "state"))
    monkeypatch.setenv("ETIU_RULES__PATH", str(tmp_path))
    settings = load_settings()
    assert settings.servicenow.url == "http://127.0.0.1:8080"
    assert settings.servicenow.user == "admin"
    assert settings.servicenow.password.get_secret_value() == "s3cret"
    assert settings.state.dir == tmp_path / "state"
    assert settings.rules.path == tmp_path


def test_environment_wins_over_the_config_file(monkeypatch, tmp_path):
    config = write(tmp_path, '[servicenow]\nurl = "https://file.service-now.com"\npage_size = 50\n')
    monkeypatch.setenv("ETIU_SERVICENOW__URL", "https://env.service-now.com")
    settings = load_settings(config)
    assert settings.servicenow.url == "https://env.service-now.com"
    assert settings.servicenow.page_size == 50


def test_config_file_is_found_through_etiu_config(monkeypatch, tmp_path):
    monkeypatch.setenv("ETIU_CONFIG", str(write(tmp_path, "[worker]\npoll_interval = 42\n")))
    assert load_settings().worker.poll_interval == 42


def test_nested_schema_keys_are_overridable(monkeypatch):
    monkeypatch.setenv("ETIU_SCHEMA__TICKET__TABLE", "x_acme_etiu")
    assert load_settings().schema.ticket.table == "x_acme_etiu"


def test_shipped_rules_and_templates_are_found_from_any_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.rules.path.is_dir() and any(settings.rules.path.glob("*.toml"))
    assert settings.templates.path.is_dir()


def test_tls_checks_are_on_by_default():
    assert load_settings().servicenow.verify_tls is True


def test_unknown_environment_key_is_named(monkeypatch):
    monkeypatch.setenv("ETIU_SERVICENOW__PASWORD", "x")
    with pytest.raises(ConfigError, match="ETIU_SERVICENOW__PASWORD"):
        load_settings()


def test_unknown_file_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"servicenow\.pagesize"):
        load_settings(write(tmp_path, "[servicenow]\npagesize = 10\n"))


def test_malformed_url_is_refused_with_its_key(monkeypatch):
    monkeypatch.setenv("ETIU_SERVICENOW__URL", "acme.service-now.com")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "servicenow.url" in message and "ETIU_SERVICENOW__URL" in message
    assert "\n" not in message


def test_url_with_a_path_is_refused(monkeypatch):
    monkeypatch.setenv("ETIU_SERVICENOW__URL", "https://acme.service-now.com/api/now")
    with pytest.raises(ConfigError, match="instance root"):
        load_settings()


def test_missing_password_is_named_when_connecting(monkeypatch):
    monkeypatch.setenv("ETIU_SERVICENOW__URL", "https://acme.service-now.com")
    monkeypatch.setenv("ETIU_SERVICENOW__USER", "etiu")
    settings = load_settings()
    with pytest.raises(ConfigError, match="servicenow.password.*ETIU_SERVICENOW__PASSWORD"):
        settings.servicenow.require_credentials()


def test_password_never_appears_in_errors_or_reprs(monkeypatch):
    monkeypatch.setenv("ETIU_SERVICENOW__PASSWORD", "hunter2-secret")
    monkeypatch.setenv("ETIU_SERVICENOW__TIMEOUT", "soon")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "hunter2" not in str(caught.value)
    monkeypatch.delenv("ETIU_SERVICENOW__TIMEOUT")
    settings = load_settings()
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


def test_unknown_time_zone_is_refused(monkeypatch):
    monkeypatch.setenv("ETIU_WORKER__DEFAULT_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(ConfigError, match="worker.default_timezone"):
        load_settings()


def test_invalid_toml_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match="config.toml is not valid TOML"):
        load_settings(write(tmp_path, "[servicenow\n"))


def test_example_file_loads_and_matches_the_defaults(monkeypatch):
    assert load_settings(EXAMPLE) == load_settings()


def test_example_file_documents_every_key():
    text = EXAMPLE.read_text()
    documented = set(re.findall(r"^#?\s*([a-z_]+) =", text, flags=re.M))
    sections = set(re.findall(r"^\[([a-z_.]+)\]", text, flags=re.M))
    for path in _known_paths(Settings):
        name = ".".join(path)
        assert path[-1] in documented or name in sections, f"{name} is not in config.example.toml"



@pytest.mark.parametrize("environment, table, key", [
    ({}, "u_etiu_ticket", "schema.ticket.table"),
    ({}, "change_request", "schema.change.table"),
    ({}, "change_task", "schema.ctask.table"),
    ({}, "sys_journal_field", None),
    ({"ETIU_SCHEMA__TICKET__TABLE": "x_acme_etiu"}, "x_acme_etiu", "schema.ticket.table"),
    ({"ETIU_SCHEMA__TICKET__TABLE": "x_acme_etiu"}, "u_etiu_ticket", None),
])
def test_schema_key_for_table_names_the_setting_that_holds_a_table(monkeypatch, environment, table, key):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert schema_key_for_table(load_settings().schema, table) == key


@pytest.mark.parametrize("auth, settings, missing", [
    ("basic", {"user": "u"}, "servicenow.password is not set"),
    ("oauth_password", {"user": "u", "password": "p"},
     "servicenow.client_id is not set (servicenow.auth = 'oauth_password' needs it)"),
    ("oauth_password", {"user": "u", "password": "p", "client_id": "c"},
     "servicenow.client_secret is not set (servicenow.auth = 'oauth_password' needs it)"),
    ("oauth_client_credentials", {"client_id": "c"},
     "servicenow.client_secret is not set (servicenow.auth = 'oauth_client_credentials' needs it)"),
])
def test_each_way_of_signing_in_names_the_credential_it_lacks(auth, settings, missing):
    configured = ServiceNowSettings(url="https://acme.service-now.com", auth=auth, **settings)
    with pytest.raises(ConfigError) as raised:
        configured.require_credentials()
    assert str(raised.value).startswith(missing + ": set it in the config file's [servicenow] section or in ETIU_")


def test_client_credentials_need_no_user_or_password():
    ServiceNowSettings(url="https://acme.service-now.com", auth="oauth_client_credentials",
                       client_id="c", client_secret="s").require_credentials()


def test_an_unknown_way_of_signing_in_is_refused_naming_the_choices(monkeypatch):
    monkeypatch.setenv("ETIU_SERVICENOW__AUTH", "kerberos")
    with pytest.raises(ConfigError, match="invalid setting servicenow.auth: Input should be 'basic', "
                                          "'oauth_password' or 'oauth_client_credentials'"):
        load_settings()


def test_the_client_secret_is_never_shown_in_a_settings_error(monkeypatch):
    monkeypatch.setenv("ETIU_SERVICENOW__CLIENT_SECRET", "x" * 5000)  # not the reason it fails
    monkeypatch.setenv("ETIU_SERVICENOW__TIMEOUT", "soon")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "xxxxx" not in str(raised.value)
    assert ServiceNowSettings(client_secret="hush", password="pw").secrets() == ["pw", "hush"]
    assert "hush" not in repr(ServiceNowSettings(client_secret="hush"))

"""Settings: a TOML file overridden by ``ETIU_*`` environment variables.

This is the only module that reads the environment. Precedence, highest first: environment
variables (``ETIU_SERVICENOW__URL``: prefix ``ETIU_``, ``__`` between nested keys), the TOML file
(``--config FILE`` or ``ETIU_CONFIG``), the defaults below. ``config.example.toml`` documents
every key; ``tests/test_config.py`` keeps the two in step.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import ConfigError

ENV_PREFIX = "ETIU_"
CONFIG_FILE_VARIABLE = "ETIU_CONFIG"
_PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_path(name: str) -> Path:
    """A folder shipped at the top of the repository (``packs``), installed or in a checkout."""
    installed = _PACKAGE_DIR / "_shipped" / name
    return installed if installed.is_dir() else _PACKAGE_DIR.parent / name


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "etiu-worker"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


AuthMethod = Literal["basic", "oauth_password", "oauth_client_credentials"]
_LOOPBACK_NAMES = ("localhost",)
# What each way of signing in needs, beside the URL.
_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "basic": ("user", "password"),
    "oauth_password": ("user", "password", "client_id", "client_secret"),
    "oauth_client_credentials": ("client_id", "client_secret"),
}


class ServiceNowSettings(_Section):
    # Declared before url: the url check reads it.
    allow_insecure_http: bool = False
    url: str | None = None
    auth: AuthMethod = "basic"
    user: str | None = None
    password: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    verify_tls: bool = True
    timeout: float = Field(30.0, gt=0, description="seconds for one request")
    page_size: int = Field(1000, ge=1, le=10000)
    max_attempts: int = Field(5, ge=1, le=20, description="tries per request, first included")
    max_backoff: float = Field(60.0, gt=0, description="longest wait between two tries, seconds")
    max_parallel_writes: int = Field(4, description="write requests in flight at once, 1 or more")

    @field_validator("max_parallel_writes")
    @classmethod
    def _at_least_one_write(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be 1 or more (1 sends the writes one after another), not {value}")
        return value

    @field_validator("url")
    @classmethod
    def _url_is_an_instance_root(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL such as https://acme.service-now.com")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"{value!r} must be the instance root, with no path or query")
        try:
            parts.port
        except ValueError as exc:
            raise ValueError(f"{value!r} has an invalid port") from exc
        if parts.scheme == "http" and not is_loopback(parts.hostname) and not info.data.get("allow_insecure_http"):
            raise ValueError(_cleartext_refusal(value))
        return value.rstrip("/")

    @property
    def insecure_http(self) -> bool:
        """True when credentials travel over plain HTTP to a host outside loopback."""
        parts = urlsplit(self.url or "")
        return parts.scheme == "http" and not is_loopback(parts.hostname or "")

    def secrets(self) -> list[str]:
        """Every secret value set, for the log's redacting filter."""
        values = (self.password, self.client_secret)
        return [value.get_secret_value() for value in values if value is not None and value.get_secret_value()]

    def require_credentials(self) -> None:
        """Refuse to connect without a URL and what ``auth`` needs, naming what is missing."""
        for key in ("url", *_CREDENTIALS[self.auth]):
            value = getattr(self, key)
            if value is None or (isinstance(value, SecretStr) and not value.get_secret_value()):
                needed = f" (servicenow.auth = {self.auth!r} needs it)" if self.auth != "basic" else ""
                raise ConfigError(
                    f"servicenow.{key} is not set{needed}: set it in the config file's [servicenow] "
                    f"section or in {env_name('servicenow', key)}"
                )


def _cleartext_refusal(url: str) -> str:
    return (f"{url!r} would send the credentials in cleartext: use https://, or set "
            f"servicenow.allow_insecure_http = true ({env_name('servicenow', 'allow_insecure_http')}) "
            f"for a network you trust")


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine."""
    if host.lower().rstrip(".") in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class StateSettings(_Section):
    dir: Path = Field(default_factory=_default_state_dir)
    journal_retention_days: int = Field(180, ge=1)
    full_resync_hours: float = Field(24.0, gt=0)
    watermark_overlap_seconds: int = Field(300, ge=0)
    # Hours between two cycles that evaluate every engagement; between them a cycle evaluates only
    # the engagements something changed for (cycle/incremental.py). 0: every cycle evaluates all.
    full_evaluation_hours: float = Field(24.0, ge=0)
    adopt: bool = Field(False, description="take over a state folder recorded for another instance")

    @field_validator("dir")
    @classmethod
    def _dir_is_a_folder(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{str(value)!r} is a file, not a folder: point it at a folder (created if missing)")
        return value


class RulesSettings(_Section):
    """Which packs run: ``packs`` (shipped pack names or pack folders), or ``path``, one pack folder.

    ``path`` wins when it is set (and setting both is an error, see playbook/pack_folders.py);
    its default, the shipped pack, is what it names when unset.
    """

    path: Path = Field(default_factory=lambda: shipped_path("packs") / "etiu")
    packs: list[str] = Field(default_factory=lambda: ["etiu"], min_length=1)


class TemplatesSettings(_Section):
    """Deprecated: the templates of a rules folder in the old layout (a pack has its own)."""

    path: Path = Field(default_factory=lambda: shipped_path("packs") / "etiu" / "templates")


class WorkerSettings(_Section):
    poll_interval: float = Field(300.0, gt=0, description="seconds between two cycles")
    jitter: float = Field(0.1, ge=0, le=1, description="share of poll_interval added at random")
    default_timezone: str = "America/New_York"
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics_path: Path | None = None

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/London") from exc
        return value


class TicketSchema(_Section):
    table: str = "u_etiu_ticket"
    engagement: str = "correlation_id"
    code: str = "u_etiu_code"
    short_description: str = "short_description"
    state: str = "state"
    work_start: str = "work_start"


class ChangeSchema(_Section):
    table: str = "change_request"
    engagement: str = "correlation_id"
    planned_start: str = "start_date"
    planned_end: str = "end_date"
    state: str = "state"
    timezone: str = "u_client_timezone"


class CtaskSchema(_Section):
    table: str = "change_task"
    change_request: str = "change_request"
    short_description: str = "short_description"
    state: str = "state"
    planned_dates_match: str = "provide the planned start date and end date"


class TicketStates(_Section):
    pending: str = "-5"
    open: str = "1"
    work_in_progress: str = "2"
    closed_complete: str = "3"
    closed_incomplete: str = "4"
    closed_skipped: str = "7"


class ChangeStates(_Section):
    new: str = "-5"
    assess: str = "-4"
    authorize: str = "-3"
    scheduled: str = "-2"
    implement: str = "-1"
    review: str = "0"
    closed: str = "3"
    canceled: str = "4"


class CtaskStates(_Section):
    pending: str = "-5"
    open: str = "1"
    in_progress: str = "2"
    closed: str = "3"
    canceled: str = "4"


class SchemaSettings(_Section):
    """The records a pack reads: ``[schema]`` of pack.toml; in the worker settings, deprecated
    overrides of it (see playbook/pack_schema.py)."""

    ticket: TicketSchema = TicketSchema()
    change: ChangeSchema = ChangeSchema()
    ctask: CtaskSchema = CtaskSchema()
    # A role's code by the role's name (ETIU_SCHEMA__CODES__<ROLE>): the pack's roles say which exist.
    codes: dict[str, str] = Field(default_factory=dict)
    ticket_states: TicketStates = TicketStates()
    change_states: ChangeStates = ChangeStates()
    ctask_states: CtaskStates = CtaskStates()
    short_description_max: int = Field(160, ge=60, le=4000)


# ``schema`` is the name admins know from the issue and the example file; it shadows the
# deprecated BaseModel.schema() classmethod, which nothing here uses.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message='Field name "schema"')

    class Settings(BaseSettings):
        model_config = SettingsConfigDict(
            env_prefix=ENV_PREFIX,
            env_nested_delimiter="__",
            extra="forbid",
            frozen=True,
        )

        servicenow: ServiceNowSettings = ServiceNowSettings()
        state: StateSettings = Field(default_factory=StateSettings)
        rules: RulesSettings = Field(default_factory=RulesSettings)
        templates: TemplatesSettings = Field(default_factory=TemplatesSettings)
        worker: WorkerSettings = WorkerSettings()
        schema: SchemaSettings = SchemaSettings()

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            # The environment wins over the file, which arrives as init arguments.
            return (env_settings, init_settings)


def env_name(*path: str) -> str:
    return ENV_PREFIX + "__".join(part.upper() for part in path)


def schema_key_for_table(schema: SchemaSettings, table: str) -> str | None:
    """The setting naming ``table`` (``schema.ticket.table``), or None when the schema does not."""
    for section in type(schema).model_fields:
        if getattr(getattr(schema, section), "table", None) == table:
            return f"schema.{section}.table"
    return None


def load_settings(config_file: Path | str | None = None) -> Settings:
    """Read the settings, or raise ``ConfigError`` with one line naming the offending key."""
    if config_file is None and os.environ.get(CONFIG_FILE_VARIABLE):
        config_file = os.environ[CONFIG_FILE_VARIABLE]
    file_values = _read_toml(Path(config_file)) if config_file else {}
    _refuse_unknown_environment_keys(os.environ)
    try:
        return Settings(**file_values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, config_file)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist: check --config or {CONFIG_FILE_VARIABLE}") from None
    except IsADirectoryError:
        raise ConfigError(
            f"config file {path} is a folder, not a file: point --config or {CONFIG_FILE_VARIABLE} "
            "at a TOML file such as config.example.toml"
        ) from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read ({exc.strerror}): check --config or {CONFIG_FILE_VARIABLE}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _known_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    paths: set[tuple[str, ...]] = set()
    for name, field in model.model_fields.items():
        key = prefix + ((field.alias or name),)
        paths.add(key)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths |= _known_paths(annotation, key)
    return paths


def _refuse_unknown_environment_keys(environ: Mapping[str, str]) -> None:
    known = _known_paths(Settings)
    for variable in environ:
        upper = variable.upper()
        if not upper.startswith(ENV_PREFIX) or upper == CONFIG_FILE_VARIABLE:
            continue
        path = tuple(part.lower() for part in upper[len(ENV_PREFIX):].split("__"))
        if path not in known:
            raise ConfigError(
                f"unknown setting {variable}: config.example.toml lists every key "
                f"(for example ETIU_SERVICENOW__URL)"
            )


def _describe(exc: ValidationError, config_file: Path | str | None) -> str:
    error = exc.errors()[0]
    path = [str(part) for part in error["loc"]]
    key = ".".join(path)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "is not a known setting (config.example.toml lists every key)"
    elif error["type"] not in ("missing", "value_error") and not key.endswith(("password", "secret")):
        message = f"{message} (got {error['input']!r})"
    source = f" in {config_file} or" if config_file else ""
    more = f" ({exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"invalid setting {key}: {message}; set it{source} with {env_name(*path)}{more}"

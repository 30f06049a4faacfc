"""The deployment examples in deploy/ (and the README) run as written, with paths swapped."""

import json
import os
import shlex
import subprocess
import sys
from configparser import ConfigParser
from pathlib import Path

import pytest
import yaml

from etiu_worker.config import load_settings
from etiu_worker.sandbox import Sandbox

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
INSTALLED = "/opt/etiu-worker/.venv/bin/etiu-worker"


@pytest.fixture
def host(tmp_path):
    """A sandbox instance and the files an admin would put in /etc/etiu-worker."""
    with Sandbox(seed_demo=True).start(port=0) as sandbox:
        env_file = tmp_path / "env"
        env_file.write_text(
            f"ETIU_SERVICENOW__URL={sandbox.url}\nETIU_SERVICENOW__USER={sandbox.user}\n"
            f"ETIU_SERVICENOW__PASSWORD={sandbox.password}\nETIU_STATE__DIR={tmp_path / 'state'}\n"
        )
        (tmp_path / "config.toml").write_text("[worker]\nlog_level = \"INFO\"\n")
        yield sandbox, tmp_path


def localise(command: str, tmp_path: Path) -> str:
    """The example's command with this machine's paths in place of the production ones."""
    worker = f"{shlex.quote(sys.executable)} -m etiu_worker"
    return (command.replace(INSTALLED, worker)
            .replace("/etc/etiu-worker/env", str(tmp_path / "env"))
            .replace("/etc/etiu-worker/config.toml", str(tmp_path / "config.toml"))
            .replace("/var/log/etiu-worker.log", str(tmp_path / "worker.log")))


def clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.upper().startswith("ETIU_")}


def test_crontab_line_runs_one_cycle_and_logs_json(host):
    sandbox, tmp_path = host
    line = next(l for l in (DEPLOY / "etiu-worker.cron").read_text().splitlines() if l and not l.startswith("#"))
    fields = line.split(None, 6)
    assert fields[:5] == ["*/5", "*", "*", "*", "*"] and fields[5] == "etiu"
    command = localise(fields[6], tmp_path).replace(". ", "set -a && . ", 1)
    result = subprocess.run(["sh", "-c", command], env=clean_env(), timeout=120)
    assert result.returncode == 0
    events = [json.loads(line) for line in (tmp_path / "worker.log").read_text().splitlines()]
    assert any(event["message"].startswith("cycle finished") for event in events)
    assert sandbox.requests[("PATCH", "u_etiu_ticket")] > 0


def test_systemd_service_runs_one_cycle_from_its_environment_file(host):
    sandbox, tmp_path = host
    unit = ConfigParser(strict=False, interpolation=None)
    unit.read(DEPLOY / "etiu-worker.service")
    service = unit["Service"]
    assert service["Type"] == "oneshot" and service["EnvironmentFile"] == "/etc/etiu-worker/env"
    assert service["ExecStart"].endswith("run --once")
    assert set(service["SuccessExitStatus"].split()) == {"1", "5"}
    env = clean_env()
    for line in (tmp_path / "env").read_text().splitlines():
        key, value = line.split("=", 1)
        env[key] = value
    result = subprocess.run(shlex.split(localise(service["ExecStart"], tmp_path)), env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-500:]
    timer = ConfigParser(strict=False, interpolation=None)
    timer.read(DEPLOY / "etiu-worker.timer")
    assert timer["Timer"]["OnUnitInactiveSec"] == "5min" and timer["Install"]["WantedBy"] == "timers.target"


def test_kubernetes_cronjob_never_overlaps_and_takes_the_password_from_a_secret(monkeypatch):
    job = yaml.safe_load((DEPLOY / "cronjob.yaml").read_text())
    assert job["kind"] == "CronJob" and job["spec"]["concurrencyPolicy"] == "Forbid"
    container = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][-2:] == ["run", "--once"]
    env = {item["name"]: item for item in container["env"]}
    assert "secretKeyRef" in env["ETIU_SERVICENOW__PASSWORD"]["valueFrom"]
    assert "value" not in env["ETIU_SERVICENOW__PASSWORD"]
    for name in list(os.environ):
        if name.upper().startswith("ETIU_"):
            monkeypatch.delenv(name)
    for name, item in env.items():
        monkeypatch.setenv(name, item.get("value", "from-the-secret"))
    settings = load_settings()  # every variable the job sets is a known, valid setting
    assert settings.state.dir == Path("/var/lib/etiu-worker")


def test_readme_shows_the_deployment_examples_as_they_are_in_deploy():
    readme = (DEPLOY.parent / "README.md").read_text()
    for name in ("etiu-worker.cron", "etiu-worker.service", "etiu-worker.timer", "cronjob.yaml"):
        body = (DEPLOY / name).read_text().strip()
        assert body in readme, f"the README's copy of deploy/{name} differs from the file"

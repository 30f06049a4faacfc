"""Loop mode through an outage: the log says once that ServiceNow is gone and once that it is back."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from urllib.parse import urlsplit

from etiu_worker.sandbox import Sandbox
from integration_helpers import TIMEOUT, wait_for, worker_env


class Lines:
    """Collects a running process's stderr lines as JSON events, in a thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.events: list[dict] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        for line in process.stderr:  # type: ignore[union-attr]
            self.events.append(json.loads(line))

    def count(self, text: str, since: int = 0) -> int:
        return sum(text in event["message"] for event in self.events[since:])


def test_loop_mode_logs_one_line_when_servicenow_goes_away_and_one_when_it_is_back(tmp_path):
    data = tmp_path / "instance.sqlite3"
    instance = Sandbox(data_path=data, seed_demo=True).start(port=0)
    port = urlsplit(instance.url).port
    env = worker_env(tmp_path, instance, password=instance.password, WORKER__POLL_INTERVAL="0.2",
                     SERVICENOW__MAX_ATTEMPTS="3", SERVICENOW__MAX_BACKOFF="0.05", SERVICENOW__TIMEOUT="5")
    process = subprocess.Popen([sys.executable, "-m", "etiu_worker", "--log-format", "json", "run"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = Lines(process)
    try:
        wait_for(lambda: lines.count("cycle finished") >= 1, timeout=TIMEOUT, what="a first cycle")
        instance.stop()
        outage = len(lines.events)
        wait_for(lambda: lines.count("cycle started", outage) >= 4, timeout=TIMEOUT, what="cycles while it is down")
        instance = Sandbox(data_path=data, seed_demo=True).start(port=port)
        wait_for(lambda: lines.count("cycle finished", outage) >= 1, timeout=TIMEOUT, what="a cycle once it is back")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=TIMEOUT) == 0
    finally:
        process.kill()
        process.wait()
        instance.stop()
    during = lines.events[outage:]
    loud = [event["message"] for event in during if event["level"] in ("warning", "error", "critical")]
    assert len(loud) == 1, loud
    assert "could not connect" in loud[0]
    assert sum("answers again" in event["message"] for event in during) == 1, during
    assert not [event for event in during if "retrying" in event["message"]]

"""Fixtures and small helpers shared by the sandbox's own tests: a started sandbox and a session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from etiu_worker.sandbox import Sandbox


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox().start() as sandbox:
        yield sandbox


@pytest.fixture
def http(sb: Sandbox) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.auth = (sb.user, sb.password)
        yield session


def url(sb: Sandbox, table: str, sys_id: str = "") -> str:
    return f"{sb.url}/api/now/table/{table}" + (f"/{sys_id}" if sys_id else "")

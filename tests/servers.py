"""Helpers for tests that start real servers (the Dagster webserver, ``kttt ui``)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import requests


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_dagster(port: int, log: Path, name: str, seconds: float = 180) -> None:
    """Wait until a Dagster webserver answers on ``port``; fail with the end of its log when it does not."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(1)
    pytest.fail(f"{name} did not start: " + log.read_text()[-2000:])

"""A gateway told to stop (SIGTERM: a restart, a deployment, the supervisor) finishes the
answers it has started before it exits, and takes no new ones, so the load balancer sends
those to another instance."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.stack import run_gateway

ANSWER = "お待たせしました"


class SlowRasa(BaseHTTPRequestHandler):
    """Rasa's REST channel, taking 3 seconds to answer."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(3)
        body = json.dumps([{"recipient_id": "x", "text": ANSWER}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _pid_listening_on(port: int) -> int:
    listing = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True)
    return next(
        int(line.split()[0])
        for line in listing.stdout.splitlines()
        if "uvicorn" in line and f"--port {port}" in line
    )


def test_a_stopping_gateway_finishes_the_answers_it_has_started(tmp_path: Path) -> None:
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), SlowRasa)
    threading.Thread(target=rasa.serve_forever, daemon=True).start()
    try:
        with run_gateway(
            f"sqlite:///{tmp_path / 'madoguchi.db'}",
            tmp_path,
            MADOGUCHI_RASA_URL=f"http://127.0.0.1:{rasa.server_port}",
            MADOGUCHI_RASA_TIMEOUT="30",
        ) as url:
            gateway = _pid_listening_on(int(url.rsplit(":", 1)[1]))
            body = {"session_id": "drain-test-session", "text": "住民票がほしい"}
            with ThreadPoolExecutor(4) as pool:
                asked = [
                    pool.submit(httpx.post, f"{url}/api/chat", json=body, timeout=30)
                    for _ in range(4)
                ]
                time.sleep(1.5)  # the questions are with Rasa
                os.kill(gateway, signal.SIGTERM)
                time.sleep(0.5)
                with pytest.raises(httpx.ConnectError):  # no new ones
                    httpx.post(f"{url}/api/chat", json=body, timeout=5)
                answers = [future.result() for future in asked]
            assert [a.status_code for a in answers] == [200] * 4
            assert all(a.json()["messages"][0]["text"] == ANSWER for a in answers)
    finally:
        rasa.shutdown()

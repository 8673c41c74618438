"""Runs the real stack (Rasa, action server, gateway) on free local ports for tests and benches."""

from __future__ import annotations

import fcntl
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import httpx
import pytest
import yaml

from bot.services import terminate, training_fingerprint
from bot.settings import PROJECT_ROOT, Settings

SERVICES = ("actions", "rasa", "gateway")
SHARED_MODELS = PROJECT_ROOT / "var" / "test-models"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def small_config(target: Path, epochs: int = 20) -> Path:
    """The project's config.yml with fewer DIET epochs, for a quick training run."""
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"] == "DIETClassifier":
            component["epochs"] = epochs
    target.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return target


@dataclass
class Stack:
    workdir: Path
    database_url: str
    epochs: int = 20
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.env['MADOGUCHI_GATEWAY_PORT']}"

    def configure(self, shared_model: bool = True) -> None:
        """Free ports, a database and a small training config.

        With ``shared_model`` the trained model is kept in ``var/test-models/`` under the
        fingerprint of its inputs, so that test modules (and test runs) whose inputs did
        not change reuse it instead of training again.
        """
        rasa_port, actions_port, gateway_port = free_port(), free_port(), free_port()
        config_dir = SHARED_MODELS if shared_model else self.workdir
        config_dir.mkdir(parents=True, exist_ok=True)
        config = small_config(config_dir / f"config-{self.epochs}-epochs.yml", self.epochs)
        self.env = {
            **os.environ,
            "MADOGUCHI_MODEL_DIR": str(self.workdir / "models"),
            "MADOGUCHI_RASA_CONFIG": str(config),
            "MADOGUCHI_DATABASE_URL": self.database_url,
            # Rasa's tracker store (SQLite), one per stack rather than var/rasa-tracker.db.
            "MADOGUCHI_TRACKER_DB": str(self.workdir / "rasa-tracker.db"),
            # The conversation log's spool, for a database outage (bot.storage.turn_log).
            "MADOGUCHI_SPOOL_DIR": str(self.workdir / "spool"),
            "MADOGUCHI_HASH_SALT": "test-salt",
            "MADOGUCHI_RASA_PORT": str(rasa_port),
            "MADOGUCHI_ACTIONS_PORT": str(actions_port),
            "MADOGUCHI_GATEWAY_PORT": str(gateway_port),
            # Tests and benches send every request from one address.
            "MADOGUCHI_RATE_LIMIT": "6000/minute",
        }
        for name in ("MADOGUCHI_RASA_URL", "MADOGUCHI_ACTIONS_URL"):
            self.env.pop(name, None)
        if shared_model:
            with mock.patch.dict(os.environ, self.env, clear=True):
                fingerprint = training_fingerprint(Settings.from_env())
            self.env["MADOGUCHI_MODEL_DIR"] = str(SHARED_MODELS / fingerprint[:16])

    def madoguchi(self, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            text=True,
            capture_output=True,
            **kwargs,
        )

    def train(self) -> float:
        started = time.monotonic()
        model_dir = Path(self.env["MADOGUCHI_MODEL_DIR"])
        model_dir.mkdir(parents=True, exist_ok=True)
        # One training per model directory at a time; the others then find it trained.
        with (model_dir / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            result = self.madoguchi("train", timeout=1800)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return time.monotonic() - started

    def start(self, timeout: float = 300.0, names: tuple[str, ...] = SERVICES) -> None:
        logs = self.workdir / "logs"
        logs.mkdir(exist_ok=True)
        for name in names:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve", name],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=(logs / f"{name}.log").open("ab"),
                stderr=subprocess.STDOUT,
                start_new_session=True,  # see bot.services.run_all
            )
        urls = {
            "actions": f"http://127.0.0.1:{self.env['MADOGUCHI_ACTIONS_PORT']}/health",
            "rasa": f"http://127.0.0.1:{self.env['MADOGUCHI_RASA_PORT']}/",
            "gateway": f"{self.gateway_url}/healthz",
        }
        deadline = time.monotonic() + timeout
        for name in names:
            while True:
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{self.log(name)}")
                try:
                    if httpx.get(urls[name], timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start:\n{self.log(name)}")
                time.sleep(0.5)

    def restart(self, name: str) -> None:
        """Stop one service and start it again, as after a crash or a deployment."""
        self.stop((name,))
        self.start(names=(name,))

    def log(self, name: str) -> str:
        path = self.workdir / "logs" / f"{name}.log"
        return path.read_text(errors="replace")[-5000:] if path.exists() else ""

    def stop(self, names: tuple[str, ...] = SERVICES) -> None:
        terminate([self.processes[n] for n in names if n in self.processes])

    def chat(self, text: str, session_id: str = "test-session", lang: str | None = None) -> dict:
        body: dict[str, str] = {"session_id": session_id, "text": text}
        if lang:
            body["lang"] = lang
        response = httpx.post(f"{self.gateway_url}/api/chat", json=body, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def running_stack(workdir: Path, database_url: str | None = None, **env: str) -> Iterator[Stack]:
    """A trained and started stack with ``env`` added to its environment; stopped on exit."""
    stack = Stack(
        workdir=workdir, database_url=database_url or f"sqlite:///{workdir / 'madoguchi.db'}"
    )
    stack.configure()
    stack.env.update(env)
    stack.train()
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@contextmanager
def run_gateway(database_url: str, tmp_path: Path, **extra_env: str) -> Iterator[str]:
    """A real gateway alone, on the database at ``database_url``, whose Rasa URL points at a
    closed port."""
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "MADOGUCHI_HOME": str(PROJECT_ROOT),
        "MADOGUCHI_GATEWAY_PORT": str(port),
        "MADOGUCHI_RASA_URL": f"http://127.0.0.1:{free_port()}",
        "MADOGUCHI_DATABASE_URL": database_url,
        "MADOGUCHI_HASH_SALT": "test-salt",
        "MADOGUCHI_RASA_TIMEOUT": "3",
        "MADOGUCHI_RATE_LIMIT": "off",
        **extra_env,
    }
    log = (tmp_path / "gateway.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "gateway"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.terminate()
        pytest.fail("the gateway did not start: " + (tmp_path / "gateway.log").read_text())
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def process_tree_rss(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in bytes."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in tree:
                tree.add(child)
                frontier.append(child)
    total = 0
    for member in tree:
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def _free_block(size: int = 3) -> int:
    """A port p with p, p+1 … p+size-1 all free, below the kernel's range of ephemeral
    ports: a port in that range can be taken, between this check and the service binding
    it, as the local end of any outgoing connection."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        base = random.randrange(10000, low - size)
        if all(_free(base + i) for i in range(size)):
            return base


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Layout:
    """`madoguchi run --instances N`, running (see running_layout)."""

    def __init__(self, process: subprocess.Popen[bytes], env: dict[str, str], log: Path) -> None:
        self.process, self.env, self.log = process, env, log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['MADOGUCHI_GATEWAY_PORT']}"

    def port(self, service: str, instance: int) -> int:
        base = {"gateway": "GATEWAY", "rasa": "RASA", "actions": "ACTIONS"}[service]
        return int(self.env[f"MADOGUCHI_{base}_PORT"]) + instance

    def wait_until_up(self, instances: int, timeout: float = 600) -> None:
        """Until every instance answers its health check (after restarts, say)."""
        paths = {"gateway": "/healthz", "rasa": "/", "actions": "/health"}
        deadline = time.monotonic() + timeout
        for service, path in paths.items():
            for i in range(1, instances + 1):
                url = f"http://127.0.0.1:{self.port(service, i)}{path}"
                while True:
                    try:
                        if httpx.get(url, timeout=10).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    assert time.monotonic() < deadline, f"{service}-{i} is not up"
                    time.sleep(1)

    def kill(self, service: str, instance: int) -> None:
        """SIGKILL one instance's whole process group, as a crash would."""
        listing = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True)
        needle = f"--port {self.port(service, instance)}"
        pids = [int(line.split()[0]) for line in listing.stdout.splitlines() if needle in line]
        assert pids, f"no {service}-{instance} running"
        for pid in pids:
            os.killpg(pid, signal.SIGKILL)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def chat(self, session: str, text: str, lang: str | None = None, tries: int = 20) -> dict:
        """What a resident's widget does: send, and on a 5xx or no connection, try again
        (it keeps the question for that)."""
        body = {"session_id": session, "text": text, **({"lang": lang} if lang else {})}
        for _ in range(tries):
            try:
                response = httpx.post(f"{self.url}/api/chat", json=body, timeout=60)
                if response.status_code == 200:
                    return response.json()
                assert response.status_code >= 500, response.text
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise AssertionError(f"not answered after {tries} tries: {text}")


@contextmanager
def running_layout(workdir: Path, instances: int, **env: str) -> Iterator[Layout]:
    """`madoguchi run --instances N` on free ports, with the shared test model and ``env``
    added to its environment (several instances need MADOGUCHI_REDIS_URL and
    MADOGUCHI_TRACKER_URL); stopped with Ctrl-C's signal on exit."""
    stack = Stack(workdir=workdir, database_url=env.get("MADOGUCHI_DATABASE_URL", ""))
    stack.configure()
    stack.train()  # the shared test model, as the other stack tests use
    environment = {
        **stack.env,
        **env,
        "MADOGUCHI_GATEWAY_PORT": str(_free_block(instances + 1)),
        "MADOGUCHI_RASA_PORT": str(_free_block(instances + 1)),
        "MADOGUCHI_ACTIONS_PORT": str(_free_block(instances + 1)),
    }
    log = workdir / "run.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--instances", str(instances)],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    running = Layout(process, environment, log)
    try:
        deadline = time.monotonic() + 600
        while "Madoguchi is running" not in running.output():
            assert process.poll() is None, running.output()[-5000:]
            assert time.monotonic() < deadline, running.output()[-5000:]
            time.sleep(1)
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(120)

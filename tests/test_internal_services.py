"""Rasa and the action server are internal: they listen on 127.0.0.1, the action server
runs actions only for callers with Rasa's token, and `madoguchi run` restarts a service
that dies instead of stopping the others.

On real processes: the action server as `madoguchi serve actions` starts it, fake services
for the supervisor, and the whole stack for `madoguchi run`.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.privacy.hashing import load_secret
from bot.services import (
    Supervisor,
    actions_token,
    quiet_environment,
    service_command,
    terminate,
)
from bot.settings import PROJECT_ROOT, Settings
from tests.stack import Stack, free_port

# --- the token ---------------------------------------------------------------------------


def test_secret_is_generated_once_and_readable_only_by_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "var" / "actions.token"
    first = load_secret("", path, "MADOGUCHI_ACTIONS_TOKEN")
    assert len(first) == 64 and int(first, 16) >= 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret("", path, "MADOGUCHI_ACTIONS_TOKEN") == first


def test_configured_secret_wins_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "actions.token"
    assert load_secret("from-settings", path, "MADOGUCHI_ACTIONS_TOKEN") == "from-settings"
    assert not path.exists()


def settings_for(monkeypatch: pytest.MonkeyPatch, home: Path, **env: str) -> Settings:
    for name in ("MADOGUCHI_ACTIONS_TOKEN", "MADOGUCHI_ACTIONS_HOST", "MADOGUCHI_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MADOGUCHI_HOME", str(home))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env()


def test_services_started_separately_get_the_same_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(monkeypatch, tmp_path)
    # `serve rasa` and `serve actions` each build their environment on their own.
    first = quiet_environment(settings)["MADOGUCHI_ACTIONS_TOKEN"]
    assert quiet_environment(settings)["MADOGUCHI_ACTIONS_TOKEN"] == first
    assert (tmp_path / "var" / "actions.token").read_text() == first
    configured = settings_for(monkeypatch, tmp_path, MADOGUCHI_ACTIONS_TOKEN="set-by-the-city")
    assert quiet_environment(configured)["MADOGUCHI_ACTIONS_TOKEN"] == "set-by-the-city"


def test_service_commands_bind_to_localhost_and_keep_the_token_off_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(monkeypatch, tmp_path)
    rasa = service_command("rasa", settings)
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1"
    actions = service_command("actions", settings)
    assert actions[actions.index("--host") + 1] == "127.0.0.1"
    assert actions_token(settings) not in " ".join(actions)
    # The app, not uvicorn, decides whose X-Forwarded-For to believe.
    assert "--no-proxy-headers" in service_command("gateway", settings)
    elsewhere = settings_for(monkeypatch, tmp_path, MADOGUCHI_ACTIONS_HOST="10.1.2.3")
    actions = service_command("actions", elsewhere)
    assert actions[actions.index("--host") + 1] == "10.1.2.3"


# --- the real action server --------------------------------------------------------------


def action_call(action: str = "action_respond") -> dict:
    """What Rasa 3.6 posts to the action server, cut down to what the actions read."""
    return {
        "next_action": action,
        "sender_id": "internal-services-test",
        "tracker": {
            "sender_id": "internal-services-test",
            "slots": {},
            "latest_message": {
                "text": "Hello",
                "intent": {"name": "greet", "confidence": 1.0},
                "entities": [],
                "metadata": {"lang": "en", "channel": "web"},
            },
            "latest_event_time": None,
            "followup_action": None,
            "paused": False,
            "events": [],
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
        "domain": {},
        "version": "3.6.21",
    }


class ActionServer:
    def __init__(self, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
        self.port = port
        self.process = process
        self.log = log
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionServer]:
    workdir = tmp_path_factory.mktemp("actions")
    port = free_port()
    env = {
        **os.environ,
        "MADOGUCHI_ACTIONS_PORT": str(port),
        "MADOGUCHI_DATABASE_URL": f"sqlite:///{workdir / 'madoguchi.db'}",
        "MADOGUCHI_HASH_SALT": "test-salt",
    }
    # The defaults, as `make run` has them: 127.0.0.1 and the token in var/actions.token.
    for name in ("MADOGUCHI_ACTIONS_TOKEN", "MADOGUCHI_ACTIONS_HOST", "MADOGUCHI_HOME"):
        env.pop(name, None)
    log = workdir / "actions.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "actions"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ActionServer(port, process, log)
    deadline = time.monotonic() + 300  # /health waits for the FAQ index to be built
    while True:
        if process.poll() is not None:
            pytest.fail("the action server exited:\n" + log.read_text(errors="replace")[-3000:])
        try:
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            terminate([process])
            pytest.fail("the action server did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.3)
    try:
        yield server
    finally:
        terminate([process])


def the_token() -> str:
    return (PROJECT_ROOT / "var" / "actions.token").read_text().strip()


def test_health_needs_no_token(action_server: ActionServer) -> None:
    response = httpx.get(f"{action_server.url}/health", timeout=60)
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"token": ""},
        {"token": "wrong"},
        {"token": "0" * 64},
        {"token": "トークン"},
        {"api_token": "<the token>"},  # the right value under another name
    ],
    ids=["none", "empty", "wrong", "same-length", "non-ascii", "other-name"],
)
def test_webhook_refuses_calls_without_the_token(
    action_server: ActionServer, params: dict[str, str]
) -> None:
    params = {k: the_token() if v == "<the token>" else v for k, v in params.items()}
    response = httpx.post(
        f"{action_server.url}/webhook", params=params, json=action_call(), timeout=30
    )
    assert response.status_code == 403
    assert response.json() == {"error": "missing or wrong token"}


def test_action_list_is_not_open_either(action_server: ActionServer) -> None:
    assert httpx.get(f"{action_server.url}/actions", timeout=60).status_code == 403
    listed = httpx.get(f"{action_server.url}/actions", params={"token": the_token()}, timeout=60)
    assert listed.status_code == 200
    assert listed.json() == [{"name": "action_respond"}]


def test_webhook_runs_the_action_for_rasa(action_server: ActionServer) -> None:
    # The way Rasa's EndpointConfig sends it: `token` in the query string.
    response = httpx.post(
        f"{action_server.url}/webhook",
        params={"token": the_token()},
        json=action_call(),
        timeout=120,  # the first call may wait for the worker's warm-up
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["responses"][0]["custom"]["outcome"] == "small_talk"
    assert body["responses"][0]["text"].startswith("Hello")
    assert {"event": "slot", "timestamp": None, "name": "language", "value": "en"} in body["events"]


def listening_addresses(port: int) -> list[str]:
    """Local addresses of the sockets listening on ``port``, from /proc/net/tcp{,6}."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                # The kernel prints each 32-bit word in host (little-endian) order.
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                family = socket.AF_INET if len(words) == 4 else socket.AF_INET6
                found.append(socket.inet_ntop(family, words))
    return found


def own_outward_address() -> str | None:
    """This machine's address on its default route, if it has one (nothing is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the route
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith(("127.", "0.")) else address


def test_action_server_listens_on_loopback_only(action_server: ActionServer) -> None:
    # Only the serving worker's socket, and on 127.0.0.1 (rasa-sdk alone: 0.0.0.0).
    assert listening_addresses(action_server.port) == ["127.0.0.1"]
    address = own_outward_address()
    if address is None:
        return
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((address, action_server.port), timeout=5).close()


# --- the supervisor (fake services) ------------------------------------------------------


def fake_service(tmp_path: Path, script: str) -> list[str]:
    return [sys.executable, "-c", script.replace("{dir}", str(tmp_path))]


# First run: leaves a child behind (as a Sanic worker can) and exits with 3. Later runs stay up.
EXITS_ONCE = """
import pathlib, subprocess, sys, time
marker = pathlib.Path("{dir}") / "ran-once"
if not marker.exists():
    marker.touch()
    child = subprocess.Popen(["sleep", "60"])
    (pathlib.Path("{dir}") / "leftover.pid").write_text(str(child.pid))
    sys.exit(3)
time.sleep(60)
"""


class Services:
    """Starts fake services in their own sessions, as run_all does, and counts starts."""

    def __init__(self, commands: dict[str, list[str]]) -> None:
        self.commands = commands
        self.starts: dict[str, int] = dict.fromkeys(commands, 0)

    def start(self, name: str) -> subprocess.Popen[bytes]:
        self.starts[name] += 1
        return subprocess.Popen(self.commands[name], start_new_session=True)


def supervise_until(supervisor: Supervisor, done, timeout: float = 10.0) -> str | None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        given_up = supervisor.check()
        if given_up or done():
            return given_up
        time.sleep(0.02)
    raise AssertionError("the supervisor did not get there in time")


def is_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # killed, not yet reaped by init


def test_a_service_that_exits_is_restarted_and_its_leftovers_killed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = Services(
        {
            "flaky": fake_service(tmp_path, EXITS_ONCE),
            "steady": fake_service(tmp_path, "import time; time.sleep(60)"),
        }
    )
    supervisor = Supervisor(services.start, backoff=0.05)
    try:
        for name in services.commands:
            supervisor.launch(name)
        steady = supervisor.processes["steady"]
        assert supervise_until(supervisor, lambda: services.starts["flaky"] == 2) is None
        time.sleep(0.3)
        assert supervisor.check() is None
        assert supervisor.processes["flaky"].poll() is None  # the second run stays up
        assert supervisor.processes["steady"] is steady and steady.poll() is None
        assert services.starts == {"flaky": 2, "steady": 1}
        leftover = int((tmp_path / "leftover.pid").read_text())
        assert is_gone(leftover)
    finally:
        terminate(supervisor.processes.values(), grace=5)
    err = capsys.readouterr().err
    assert "The flaky service exited (code 3); restarting it in 0.05 s." in err
    assert "Restarting the flaky service." in err


def test_a_service_that_keeps_exiting_is_given_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = Services(
        {
            "broken": fake_service(tmp_path, "import sys; sys.exit(1)"),
            "steady": fake_service(tmp_path, "import time; time.sleep(60)"),
        }
    )
    supervisor = Supervisor(services.start, limit=3, backoff=0.01)
    try:
        for name in services.commands:
            supervisor.launch(name)
        assert supervise_until(supervisor, lambda: False) == "broken"
        assert services.starts == {"broken": 3, "steady": 1}
        assert supervisor.processes["steady"].poll() is None  # run_all then stops it
    finally:
        terminate(supervisor.processes.values(), grace=5)
    err = capsys.readouterr().err
    assert "restarting it in 0.01 s" in err and "restarting it in 0.02 s" in err
    assert "The broken service exited (code 1) 3 times in a row" in err
    assert "giving up" in err


def test_exits_after_a_good_run_do_not_add_up(tmp_path: Path) -> None:
    # Each run lasts longer than the window: the service is restarted every time.
    services = Services({"slow": fake_service(tmp_path, "import time; time.sleep(0.4)")})
    supervisor = Supervisor(services.start, limit=2, window=0.2, backoff=0.01)
    try:
        supervisor.launch("slow")
        assert supervise_until(supervisor, lambda: services.starts["slow"] == 4) is None
        assert supervisor.failures["slow"] == 1
    finally:
        terminate(supervisor.processes.values(), grace=5)


# --- `madoguchi run` on the real stack ---------------------------------------------------


def child_processes(parent: int) -> dict[int, list[str]]:
    """The direct children of ``parent``, with their command lines."""
    children = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent:
                children[int(entry.name)] = (
                    (entry / "cmdline").read_bytes().decode().split("\0")[:-1]
                )
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return children


def service_pid(run: subprocess.Popen[str], marker: str, port: int) -> int:
    """The pid of the service `run` started whose command line has ``marker`` and ``port``."""
    for pid, command in child_processes(run.pid).items():
        if marker in " ".join(command) and str(port) in command:
            return pid
    raise AssertionError(f"no {marker} child on port {port}: {child_processes(run.pid)}")


@pytest.mark.rasa
def test_madoguchi_run_restarts_a_crashed_service_and_keeps_the_others(
    tmp_path: Path,
) -> None:
    stack = Stack(workdir=tmp_path, database_url=f"sqlite:///{tmp_path / 'madoguchi.db'}")
    stack.configure()
    stack.train()
    ports = {
        name: int(stack.env[f"MADOGUCHI_{name.upper()}_PORT"])
        for name in ("rasa", "actions", "gateway")
    }
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    run = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=PROJECT_ROOT,
        env=stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    # Keep draining: the services write to the same pipe and would block on a full one.
    reader = threading.Thread(target=lambda: output.extend(run.stdout or []), daemon=True)
    reader.start()

    def wait_for(text: str, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in "".join(output):
            assert run.poll() is None, "".join(output)[-3000:]
            assert time.monotonic() < deadline, f"no {text!r}:\n" + "".join(output)[-3000:]
            time.sleep(0.2)

    def ask() -> dict:
        return httpx.post(
            f"{gateway}/api/chat",
            json={"session_id": "restart", "text": "暗証番号を忘れてしまいました"},
            timeout=60,
        ).json()

    try:
        wait_for("Madoguchi is running")
        # The action server: its Sanic worker outlives a killed main process and would
        # keep the port; the restarted server must get it back.
        os.kill(service_pid(run, "bot.actions_server", ports["actions"]), signal.SIGKILL)
        wait_for("The actions service exited (code -9); restarting it in 1 s.")
        wait_for("Restarting the actions service.")
        # Rasa: while it is down the gateway stays up and says so.
        os.kill(service_pid(run, "rasa", ports["rasa"]), signal.SIGKILL)
        wait_for("The rasa service exited (code -9); restarting it in 1 s.")
        assert httpx.get(f"{gateway}/healthz", timeout=60).status_code == 200
        wait_for("Restarting the rasa service.")
        deadline = time.monotonic() + 300
        while True:  # until the new Rasa and action server answer, with the token
            try:
                if httpx.get(f"http://127.0.0.1:{ports['rasa']}/", timeout=2).status_code == 200:
                    reply = ask()
                    if reply.get("messages"):
                        break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "".join(output)[-3000:]
            time.sleep(1)
        assert reply["messages"][0]["faq_id"] == "mynumber-card-pin-forgot"
        assert run.poll() is None
    finally:
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C
        run.wait(timeout=60)
        reader.join(timeout=10)
    assert run.returncode == 0, "".join(output)[-3000:]

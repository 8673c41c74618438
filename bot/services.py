"""Training the Rasa model and running the three services (Rasa, actions, gateway).

Rasa lives in its own virtual environment (`.venv-rasa`); this module, which runs in the
app environment, starts it as a subprocess with telemetry off.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import unquote, urlsplit

import httpx

from bot.privacy.hashing import load_secret
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.faq.corpus import Corpus
    from bot.layout import Instance

MODEL_NAME = "madoguchi"
# Everything a trained model depends on: when none of these changed, training is skipped.
TRAINING_INPUTS = (
    "config.yml",
    "domain.yml",
    "data",
    "faq/terms.yml",
    "bot/nlu",
    "bot/text/japanese.py",
    "requirements/rasa.txt",
)
READY_TIMEOUT = 300.0


def actions_token(settings: Settings) -> str:
    """The secret Rasa sends with every action call and the action server requires."""
    return load_secret(
        settings.actions_token, settings.root / "var" / "actions.token", "MADOGUCHI_ACTIONS_TOKEN"
    )


def quiet_environment(settings: Settings) -> dict[str, str]:
    """Environment for every service: nothing calls out, the project is importable, and
    Rasa and the action server share the token (endpoints.yml). The children inherit this
    process's environment, with these variables set for them."""
    env = dict(os.environ)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "MADOGUCHI_ACTIONS_URL": settings.actions_url,
            "MADOGUCHI_ACTIONS_TOKEN": actions_token(settings),
            "MADOGUCHI_TRACKER_URL": rasa_database_url(settings.tracker_url),
            **lock_store_environment(settings.redis_url),
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(settings.root), env.get("PYTHONPATH", "")) if p
            ),
        }
    )
    return env


def lock_store_environment(redis_url: str) -> dict[str, str]:
    """endpoints.yml's lock store: Redis when the installation has one, so that any number
    of Rasa servers take a conversation's messages one at a time and in order; else Rasa's
    in-process lock, which is right for one Rasa server."""
    if not redis_url:
        return {"MADOGUCHI_LOCK_STORE": "in_memory", **dict.fromkeys(_LOCK_STORE_FIELDS, "")}
    url = urlsplit(redis_url)
    if url.scheme != "redis":
        # Rasa's lock store takes its TLS switch as a boolean, which endpoints.yml's
        # environment variables cannot give: only plain redis:// reaches it.
        raise ValueError(
            f"MADOGUCHI_REDIS_URL: Rasa's lock store needs redis://, not {url.scheme}://"
        )
    return {
        "MADOGUCHI_LOCK_STORE": REDIS_LOCK_STORE,
        "MADOGUCHI_LOCK_STORE_HOST": url.hostname or "localhost",
        "MADOGUCHI_LOCK_STORE_PORT": str(url.port or 6379),
        "MADOGUCHI_LOCK_STORE_DB": url.path.strip("/") or "0",
        "MADOGUCHI_LOCK_STORE_PASSWORD": unquote(url.password or ""),
    }


# Rasa's own Redis lock store, made safe for several Rasa servers (see its module).
REDIS_LOCK_STORE = "bot.nlu.lock_store.AtomicRedisLockStore"
_LOCK_STORE_FIELDS = tuple(
    f"MADOGUCHI_LOCK_STORE_{name}" for name in ("HOST", "PORT", "DB", "PASSWORD")
)


def rasa_database_url(url: str) -> str:
    """A database URL as Rasa's SQLAlchemy 1.4 with psycopg2 reads it."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url.removeprefix(prefix)
    return url


def model_path(settings: Settings) -> Path:
    return settings.model_dir / f"{MODEL_NAME}.tar.gz"


def training_config(settings: Settings) -> Path:
    return settings.rasa_config or settings.root / "config.yml"


def _files(root: Path, names: Iterable[str]) -> list[Path]:
    found: list[Path] = []
    for name in names:
        path = root / name
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            )
        elif path.is_file():
            found.append(path)
    return found


def training_fingerprint(settings: Settings) -> str:
    digest = hashlib.sha256()
    config = training_config(settings)
    for path in [config, *_files(settings.root, TRAINING_INPUTS)]:
        digest.update(
            str(
                path.relative_to(settings.root) if path.is_relative_to(settings.root) else path
            ).encode()
        )
        digest.update(path.read_bytes())
    return digest.hexdigest()


def train_if_needed(settings: Settings, force: bool = False) -> int:
    """Train the Rasa model unless a model trained on the same inputs exists."""
    model = model_path(settings)
    stamp = model.with_suffix("").with_suffix(".fingerprint")
    current = training_fingerprint(settings)
    if not force and model.exists() and stamp.exists() and stamp.read_text() == current:
        print(f"Rasa model is up to date: {model}")
        return 0
    print("Training the Rasa model (this takes a few minutes)...", flush=True)
    settings.model_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(settings.rasa_venv / "bin" / "rasa"),
        "train",
        "--config",
        str(training_config(settings)),
        "--domain",
        str(settings.root / "domain.yml"),
        "--data",
        str(settings.root / "data"),
        "--out",
        str(settings.model_dir),
        "--fixed-model-name",
        MODEL_NAME,
        "--quiet",
    ]
    result = subprocess.run(command, cwd=settings.root, env=quiet_environment(settings))
    if result.returncode != 0:
        print("Rasa training failed.", file=sys.stderr)
        return result.returncode
    stamp.write_text(current)
    print(f"Rasa model written to {model}")
    return 0


def train_embeddings_if_needed(
    settings: Settings, force: bool = False, steps: int | None = None
) -> int:
    """Train the FAQ engine's own embedding model unless one for this corpus is cached."""
    from bot.faq.corpus import Corpus
    from bot.faq.profile import Profile

    if settings.embedding_model:
        print("Using the configured embedding model; nothing to train.")
        return 0
    corpus = Corpus.load(settings.corpus_dir, Profile.load(settings.profile_path))
    if corpus.problems:
        print("The FAQ corpus has problems; run 'madoguchi faq validate'.", file=sys.stderr)
        return 1
    if not force:
        print("Checking the FAQ embedding model...", flush=True)
    path, trained = embeddings_for(corpus, settings, settings.embeddings_dir, force, steps)
    print(f"Embedding model {'trained' if trained else 'is up to date'}: {path}")
    return 0


def embeddings_for(
    corpus: Corpus,
    settings: Settings,
    cache_dir: Path,
    force: bool = False,
    steps: int | None = None,
) -> tuple[Path, bool]:
    """The embedding model trained for ``corpus`` (the installation's own, or a city's FAQ
    under evaluation), cached in ``cache_dir`` by the corpus's digest. Returns its
    directory and whether it was trained now."""
    import dataclasses

    from bot.faq import embeddings
    from bot.faq.out_of_scope import engine_examples
    from bot.text.japanese import CompoundTable

    plan = embeddings.TrainingPlan()
    if steps:
        plan = dataclasses.replace(plan, steps=steps)
    terms = CompoundTable.from_file(settings.terms_path)
    return embeddings.train_if_needed(
        corpus, cache_dir, terms, plan, force=force, out_of_scope=engine_examples(settings)
    )


def service_command(name: str, settings: Settings) -> list[str]:
    if name == "rasa":
        return [
            str(settings.rasa_venv / "bin" / "rasa"),
            "run",
            "--model",
            str(model_path(settings)),
            "--endpoints",
            str(settings.root / "endpoints.yml"),
            "--credentials",
            str(settings.root / "credentials.yml"),
            "--interface",
            settings.rasa_host,
            "--port",
            str(settings.rasa_port),
        ]
    if name == "actions":
        # rasa-sdk's app behind a token check; the token comes in the environment, where
        # other users cannot read it (unlike a command line).
        return [
            sys.executable,
            "-m",
            "bot.actions_server",
            "--host",
            settings.actions_host,
            "--port",
            str(settings.actions_port),
        ]
    if name == "gateway":
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "bot.gateway.app:create_app",
            "--factory",
            "--host",
            settings.host,
            "--port",
            str(settings.gateway_port),
            # uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1; the app
            # decides which proxies to trust (MADOGUCHI_TRUSTED_PROXIES).
            "--no-proxy-headers",
        ]
    raise ValueError(f"unknown service {name!r}")


def serve(name: str, settings: Settings) -> int:
    """Run one service in the foreground (replacing this process)."""
    if name == "rasa" and not model_path(settings).exists():
        print(
            f"No Rasa model at {model_path(settings)}: run 'madoguchi train' first.",
            file=sys.stderr,
        )
        return 1
    command = service_command(name, settings)
    os.chdir(settings.root)
    os.execvpe(command[0], command, quiet_environment(settings))
    return 0  # not reached


def wait_until_ready(
    url: str, process: subprocess.Popen[bytes], timeout: float = READY_TIMEOUT
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


@dataclass
class Supervisor:
    """Keeps services running: one that exits is started again after a pause.

    A run shorter than ``window`` seconds counts as a failure, and the pause doubles with
    each failure in a row. After ``limit`` failures in a row the service is given up: it
    is broken, not unlucky.
    """

    start: Callable[[str], subprocess.Popen[bytes]]
    limit: int = 5
    window: float = 60.0
    backoff: float = 1.0
    out: TextIO | None = None  # default: standard error at the time of writing
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    restart_at: dict[str, float] = field(default_factory=dict)

    def launch(self, name: str) -> subprocess.Popen[bytes]:
        self.processes[name] = self.start(name)
        self.started[name] = time.monotonic()
        return self.processes[name]

    def check(self) -> str | None:
        """Notice exits and restart what is due. Returns the service given up on, if any."""
        now = time.monotonic()
        for name in list(self.processes):
            if name in self.restart_at:
                if now >= self.restart_at[name]:
                    del self.restart_at[name]
                    self._say(f"Restarting the {name} service.")
                    self.launch(name)
                continue
            process = self.processes[name]
            code = process.poll()
            if code is None:
                continue
            kill_process_group(process)
            quick = now - self.started[name] < self.window
            self.failures[name] = self.failures.get(name, 0) + 1 if quick else 1
            if self.failures[name] >= self.limit:
                self._say(
                    f"The {name} service exited (code {code}) {self.failures[name]} times "
                    f"in a row, each within {self.window:g} s of starting; giving up."
                )
                return name
            delay = self.backoff * 2 ** (self.failures[name] - 1)
            self._say(f"The {name} service exited (code {code}); restarting it in {delay:g} s.")
            self.restart_at[name] = now + delay
        return None

    def _say(self, message: str) -> None:
        print(message, file=self.out or sys.stderr, flush=True)


def kill_process_group(process: subprocess.Popen[bytes]) -> None:
    """Kill what is left of an exited service's process group (started with its own
    session). A Sanic worker can outlive its main process and keep the port."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def run_all(settings: Settings, instances: int = 1, hosts: Sequence[str] = ()) -> int:
    """Train if needed, start the services (one of each, or ``instances`` of each behind
    HAProxy), restart one that exits, and stop them all on Ctrl-C (or when one keeps
    exiting)."""
    from bot.layout import LayoutError, one_of_each, several

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    # Installed explicitly: a process started in the background by a shell without job
    # control inherits SIGINT as ignored, and Ctrl-C (or kill -INT) must still stop it.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        layout = (
            one_of_each(settings)
            if instances == 1 and not hosts
            else several(settings, instances, settings.root / "var" / "haproxy.cfg", hosts)
        )
        code = train_if_needed(settings) or train_embeddings_if_needed(settings)
    except LayoutError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nStopped before the assistant started.", flush=True)
        return 130
    return code or supervise(settings, layout)


def supervise(settings: Settings, layout: list[Instance]) -> int:
    """Start ``layout``, wait until it is ready, and keep it running."""
    environment = quiet_environment(settings)
    by_name = {instance.name: instance for instance in layout}

    def start(name: str) -> subprocess.Popen[bytes]:
        # Each service in its own process group: Ctrl-C reaches only this process, which
        # stops the services once, in order. (Sanic, on a second stop signal, SIGKILLs its
        # worker's whole process group, which would otherwise be ours.)
        return subprocess.Popen(
            by_name[name].command,
            cwd=settings.root,
            env={**environment, **by_name[name].environment},
            start_new_session=True,
        )

    supervisor = Supervisor(start)
    try:
        # The services start together; HAProxy, last, finds every instance up (its first
        # health checks would otherwise mark them down for a few seconds).
        for _, tier in itertools.groupby(layout, key=lambda i: i.name == "haproxy"):
            tier = list(tier)
            for instance in tier:
                supervisor.launch(instance.name)
            for instance in tier:
                if not wait_until_ready(instance.ready_url, supervisor.processes[instance.name]):
                    print(
                        f"The {instance.name} service did not start; see its output above.",
                        file=sys.stderr,
                    )
                    return 1
        print(
            f"\nMadoguchi is running: open http://{settings.host}:{settings.gateway_port}/"
            f"\n(Ctrl-C stops all {len(layout)} services.)\n",
            flush=True,
        )
        while (given_up := supervisor.check()) is None:
            time.sleep(0.5)
        print(f"Stopped because the {given_up} service keeps exiting.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
        return 0
    finally:
        terminate(supervisor.processes.values())


def terminate(processes: Iterable[subprocess.Popen[bytes]], grace: float = 15.0) -> None:
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

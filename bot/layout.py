"""Which processes make up an installation: one of each service for a developer, or N of
each behind HAProxy (the production layout on one host), and HAProxy's configuration for
that layout or for several hosts.

The load balancer stands in front of every tier: residents → gateways, gateways → Rasa
servers, Rasa servers → action servers. Any instance can then stop (a crash, a restart, a
deployment) while the others serve; the Rasa servers share the tracker store (the database)
and the conversation lock (Redis), so any of them can take any conversation.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.settings import Settings

SERVICES = ("actions", "rasa", "gateway")


@dataclass(frozen=True)
class Instance:
    """One process to start and keep running."""

    name: str
    command: list[str]
    ready_url: str
    # Set on top of the services' common environment (bot.services.quiet_environment).
    environment: dict[str, str] = field(default_factory=dict)


def _serve(service: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", "serve", service]


def one_of_each(settings: Settings) -> list[Instance]:
    """The developer's layout: one action server, one Rasa server, one gateway."""
    ready = {
        "actions": settings.actions_url.rsplit("/", 1)[0] + "/health",
        "rasa": settings.rasa_url.rstrip("/") + "/",
        "gateway": f"http://{settings.host}:{settings.gateway_port}/healthz",
    }
    return [Instance(name, _serve(name), ready[name]) for name in SERVICES]


class LayoutError(ValueError):
    """The installation cannot run several instances as configured."""


def check_several(settings: Settings) -> None:
    """What several instances need: shared conversation state, and the load balancer."""
    if not settings.redis_url:
        raise LayoutError(
            "several Rasa servers share each conversation's lock in Redis: set MADOGUCHI_REDIS_URL"
        )
    if settings.tracker_url.startswith("sqlite"):
        raise LayoutError(
            "several Rasa servers share the conversations in a database server: set "
            "MADOGUCHI_TRACKER_URL (e.g. postgresql://user@host/madoguchi_tracker)"
        )
    if shutil.which("haproxy") is None:
        raise LayoutError("several instances run behind HAProxy: apt-get install haproxy")


@dataclass(frozen=True)
class Ports:
    """Where each tier's load balancer listens (the ports a single instance would use);
    instance i of a tier listens on that port + i."""

    public: int
    rasa: int
    actions: int

    @classmethod
    def of(cls, settings: Settings) -> Ports:
        return cls(settings.gateway_port, settings.rasa_port, settings.actions_port)


def several(
    settings: Settings, count: int, config: Path, hosts: Sequence[str] = ()
) -> list[Instance]:
    """``count`` of each service on this host behind HAProxy, whose configuration (written
    to ``config``) listens where one of each would: residents and the widget see no
    difference. Instances listen on the internal interface (MADOGUCHI_RASA_HOST).

    With ``hosts`` (every host's internal address, this one's included), HAProxy sends
    requests to the instances of all of them, each running the same layout."""
    check_several(settings)
    internal, ports = settings.rasa_host, Ports.of(settings)
    hosts = list(dict.fromkeys(hosts or [internal]))
    if internal not in hosts:
        raise LayoutError(
            f"--hosts must include this host's own address, {internal} (MADOGUCHI_HOST)"
        )
    instances: list[Instance] = []
    addresses: dict[str, list[str]] = {}
    for service, (base, health, environment) in _tiers(settings, internal, ports).items():
        addresses[service] = [f"{h}:{base + i}" for h in hosts for i in range(1, count + 1)]
        instances += [
            Instance(
                f"{service}-{i}",
                _serve(service),
                f"http://{internal}:{base + i}{health}",
                environment(base + i),
            )
            for i in range(1, count + 1)
        ]
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        haproxy_config(
            settings,
            public=f"{settings.host}:{ports.public}",
            rasa=f"{internal}:{ports.rasa}",
            actions=f"{internal}:{ports.actions}",
            gateways=addresses["gateway"],
            rasas=addresses["rasa"],
            actions_servers=addresses["actions"],
        ),
        encoding="utf-8",
    )
    # Ready when residents can reach a gateway through it.
    ready = f"http://{internal}:{ports.public}/healthz"
    return [*instances, Instance("haproxy", ["haproxy", "-f", str(config), "-db"], ready)]


Tier = tuple[int, str, Callable[[int], dict[str, str]]]


def _tiers(settings: Settings, internal: str, ports: Ports) -> dict[str, Tier]:
    """Per service: the port its instances count from, its health check, and the
    environment of the instance on a given port."""
    proxies = ",".join(dict.fromkeys([*settings.trusted_proxies, internal]))
    return {
        "actions": (
            ports.actions,
            "/health",
            lambda port: {"MADOGUCHI_ACTIONS_HOST": internal, "MADOGUCHI_ACTIONS_PORT": str(port)},
        ),
        "rasa": (
            ports.rasa,
            "/",
            lambda port: {
                "MADOGUCHI_RASA_HOST": internal,
                "MADOGUCHI_RASA_PORT": str(port),
                "MADOGUCHI_ACTIONS_URL": f"http://{internal}:{ports.actions}/webhook",
            },
        ),
        "gateway": (
            ports.public,
            "/healthz",
            lambda port: {
                "MADOGUCHI_HOST": internal,
                "MADOGUCHI_GATEWAY_PORT": str(port),
                "MADOGUCHI_RASA_URL": f"http://{internal}:{ports.rasa}",
                # The client is the one HAProxy names in X-Forwarded-For.
                "MADOGUCHI_TRUSTED_PROXIES": proxies,
            },
        ),
    }


def haproxy_config(
    settings: Settings,
    *,
    public: str,
    rasa: str,
    actions: str,
    gateways: Sequence[str],
    rasas: Sequence[str],
    actions_servers: Sequence[str],
) -> str:
    """deploy/haproxy.cfg.j2 for these addresses (host:port each)."""
    environment = Environment(
        loader=FileSystemLoader(settings.root / "deploy"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment.get_template("haproxy.cfg.j2").render(
        public=public,
        rasa=rasa,
        actions=actions,
        gateways=gateways,
        rasas=rasas,
        actions_servers=actions_servers,
    )

"""The action server: rasa-sdk's app, on 127.0.0.1 by default, answering only Rasa.

`python -m rasa_sdk` listens on every interface and runs any action for whoever calls it.
This serves the same app (its /health, /webhook and /actions routes, and its Sanic worker,
where actions/actions.py warms up) on MADOGUCHI_ACTIONS_HOST, and refuses every call but
/health that lacks the token Rasa sends (see endpoints.yml).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import sys
from functools import partial

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app_for_serve
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.worker.loader import AppLoader

from bot.services import actions_token
from bot.settings import Settings

ACTIONS_PACKAGE = "actions"
# Rasa's EndpointConfig sends `token` as this query parameter (its default `token_name`).
TOKEN_PARAMETER = "token"
OPEN_PATHS = frozenset({"/health"})

logger = logging.getLogger(__name__)


def token_is_valid(given: str | None, expected: str) -> bool:
    # Bytes, so that a non-ASCII guess is a plain mismatch rather than a TypeError.
    return hmac.compare_digest((given or "").encode(), expected.encode())


def warmed_up() -> bool:
    """Whether the worker's actions have built the FAQ index (see actions/actions.py)."""
    actions = sys.modules.get(f"{ACTIONS_PACKAGE}.actions")
    ready = getattr(actions, "READY", None)
    return ready is None or ready.is_set()


def create_app(executor: ActionExecutor, token: str, endpoints: str) -> Sanic:
    """rasa-sdk's app with a token check in front. Module-level: Sanic's AppLoader pickles
    it to build the app again in its worker process."""
    if not token:
        raise ValueError("the action server needs a token")
    # No CORS: browsers have no business calling the action server.
    app = create_app_for_serve(executor, cors_origins=None, endpoints=endpoints)

    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            if not warmed_up():
                # Healthy only once the FAQ index is built: until then a resident's first
                # question would wait for it.
                return response.json({"status": "warming up"}, status=503)
            return None
        if token_is_valid(request.args.get(TOKEN_PARAMETER), token):
            return None
        return response.json({"error": "missing or wrong token"}, status=403)

    app.on_request(require_token)
    return app


def serve(host: str, port: int, token: str, endpoints: str) -> None:
    """What `python -m rasa_sdk --actions actions` does, on ``host`` and with the token."""
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(logging.INFO)
    utils.update_sanic_log_level()
    executor = ActionExecutor()
    executor.register_package(ACTIONS_PACKAGE)
    loader = AppLoader(factory=partial(create_app, executor, token=token, endpoints=endpoints))
    app = loader.load()
    logger.info("Action server listening on http://%s:%s", host, port)
    app.prepare(
        host=host,
        port=port,
        workers=utils.number_of_sanic_workers(),
        # The token travels in the query string, which an access log line would record.
        access_log=False,
    )
    Sanic.serve(primary=app, app_loader=loader)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.actions_server", description="Run the Rasa action server."
    )
    parser.add_argument("--host", help="interface (default: MADOGUCHI_ACTIONS_HOST)")
    parser.add_argument("--port", type=int, help="port (default: MADOGUCHI_ACTIONS_PORT)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    serve(
        host=args.host or settings.actions_host,
        port=args.port or settings.actions_port,
        token=actions_token(settings),
        endpoints=str(settings.root / "endpoints.yml"),
    )
    return 0


if __name__ == "__main__":
    # Through the imported module, not this `__main__` copy: the worker process unpickles
    # `bot.actions_server.create_app` by name.
    from bot import actions_server

    sys.exit(actions_server.main())

"""What the gateway's routes need, read from the app the composition root built
(bot.gateway.app): the settings, the one store and its turn log, the Rasa client, the LINE
channel."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bot.faq.directory import FaqDirectory
from bot.gateway.line.channel import LineChannel
from bot.gateway.rasa_client import RasaClient
from bot.settings import Settings
from bot.storage.db import Store
from bot.storage.turn_log import TurnLog


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_turn_log(request: Request) -> TurnLog:
    return request.app.state.turn_log


def get_salt(request: Request) -> str:
    """The salt session ids and LINE user ids are hashed with."""
    return request.app.state.salt


def get_directory(request: Request) -> FaqDirectory:
    return request.app.state.directory


def get_rasa(request: Request) -> RasaClient:
    return request.app.state.rasa


def get_line(request: Request) -> LineChannel | None:
    """The LINE channel, or None when the city has not configured one."""
    return request.app.state.line


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
TurnLogDep = Annotated[TurnLog, Depends(get_turn_log)]
SaltDep = Annotated[str, Depends(get_salt)]
DirectoryDep = Annotated[FaqDirectory, Depends(get_directory)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]
LineDep = Annotated[LineChannel | None, Depends(get_line)]

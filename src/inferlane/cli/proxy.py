"""``inferlane proxy``: load config, run the app under uvloop, reload on SIGHUP, drain on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

import uvloop

from inferlane.cli.config_file import load_or_report
from inferlane.observability.access_log import AccessLog
from inferlane.observability.logs import setup_logging
from inferlane.server.app import App


async def serve(app: App) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: app.spawn(app.reload(), "sighup-reload"))
    await app.start()
    await stop.wait()
    await app.shutdown()


def run_proxy(path: str) -> int:
    config = load_or_report(path)
    if isinstance(config, int):
        return config
    setup_logging(config.logging.level, config.logging.format)
    app = App(config, config_path=path, access_log=AccessLog())
    try:
        uvloop.run(serve(app))
    except OSError as error:
        print(f"inferlane: cannot listen: {error}", file=sys.stderr)
        return 1
    return 0

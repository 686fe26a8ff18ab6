"""``inferlane top``: the status page in a terminal. Polls ``GET /admin/status`` on the admin port and redraws
one plain-ANSI frame per interval (no curses); ``--once`` prints a single frame and exits."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from typing import Any, TextIO

import orjson

from inferlane.cli.top_frame import render

CLEAR = "\x1b[H\x1b[2J"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--admin",
        default=os.environ.get("INFERLANE_ADMIN", "http://127.0.0.1:15020"),
        help="the proxy's admin URL (default: $INFERLANE_ADMIN or http://127.0.0.1:15020)",
    )
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between refreshes (default 1)")
    parser.add_argument("--once", action="store_true", help="print one frame and exit")
    parser.add_argument("--no-color", action="store_true", help="plain text, no ANSI colours")


def fetch_status(admin: str, timeout: float) -> dict[str, Any]:
    url = admin.rstrip("/") + "/admin/status"
    with urllib.request.urlopen(url, timeout=timeout) as response:
        data: dict[str, Any] = orjson.loads(response.read())
    return data


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out if out is not None else sys.stdout
    if args.interval <= 0:
        print("inferlane top: --interval must be positive", file=sys.stderr)
        return 2
    color = not args.no_color and out.isatty() and "NO_COLOR" not in os.environ
    timeout = max(1.0, min(5.0, args.interval * 2))
    try:
        while True:
            width = shutil.get_terminal_size((120, 40)).columns
            try:
                frame = render(fetch_status(args.admin, timeout), width=width, color=color)
            except (urllib.error.URLError, OSError, orjson.JSONDecodeError) as error:
                reason = getattr(error, "reason", error)
                message = f"inferlane top: cannot read {args.admin}/admin/status: {reason}"
                if args.once:
                    print(message, file=sys.stderr)
                    return 1
                frame = message + f" (retrying every {args.interval:g}s)\n"
            if args.once:
                out.write(frame)
                return 0
            out.write(CLEAR + frame)
            out.flush()
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0

"""``inferlane rollout status|promote|pause|resume|abort [model]``: a thin client of the admin API."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from inferlane.config.units import parse_duration

ACTIONS = ("status", "promote", "pause", "resume", "abort")
TIMEOUT_S = 10.0
#: ``status --wait`` exit codes by the phase it stops at (2: timed out)
WAIT_EXIT = {"Healthy": 0, "Degraded": 1, "Aborted": 1, "Paused": 3}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("model", nargs="?", help="the model under rollout (status without it lists all)")
    parser.add_argument(
        "--admin",
        default=os.environ.get("INFERLANE_ADMIN_URL", "http://127.0.0.1:15020"),
        help="admin API base URL (default $INFERLANE_ADMIN_URL or http://127.0.0.1:15020)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("INFERLANE_ADMIN_TOKEN"),
        help="admin token for promote/pause/resume/abort (default $INFERLANE_ADMIN_TOKEN)",
    )
    parser.add_argument("--full", action="store_true", help="promote: skip every remaining step to 100%%")
    parser.add_argument("--json", action="store_true", help="print the admin API's JSON answer")
    parser.add_argument(
        "--wait",
        action="store_true",
        help="status: follow the rollout until it needs no watching; exit 0 Healthy, 1 rolled back, "
        "2 timed out, 3 paused (waiting for an operator)",
    )
    parser.add_argument("--timeout", type=parse_duration, default=3600.0, help="--wait: give up after (1h)")
    parser.add_argument("--every", type=parse_duration, default=2.0, help="--wait: poll interval (2s)")


def run(args: argparse.Namespace) -> int:
    if args.action != "status" and not args.model:
        print(f"inferlane rollout {args.action}: name the model", file=sys.stderr)
        return 2
    base = args.admin.rstrip("/") + "/admin/rollouts"
    if args.wait:
        if args.action != "status" or not args.model:
            print("inferlane rollout: --wait goes with 'status <model>'", file=sys.stderr)
            return 2
        return _wait(f"{base}/{urllib.parse.quote(args.model, safe='')}", args.timeout, args.every)
    if args.action == "status":
        url = base + (f"/{urllib.parse.quote(args.model, safe='')}" if args.model else "")
        answer = _call("GET", url, None)
    else:
        query = "?full=true" if args.full and args.action == "promote" else ""
        url = f"{base}/{urllib.parse.quote(args.model, safe='')}/{args.action}{query}"
        answer = _call("POST", url, args.token)
    if isinstance(answer, int):
        return answer
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    rollouts = answer.get("rollouts", [answer])
    if not rollouts:
        print("no rollouts configured")
    for rollout in rollouts:
        print(describe(rollout))
    return 0


def _wait(url: str, timeout: float, every: float) -> int:
    """Print each change of phase, step or weights until a phase in WAIT_EXIT, or the timeout."""
    deadline = time.monotonic() + timeout
    shown = None
    while True:
        answer = _call("GET", url, None)
        if isinstance(answer, int):
            return answer
        seen = (answer["phase"], answer["step"], answer["weights"])
        if seen != shown:
            print(f"{answer['model']}: {answer['phase']} — {answer['message']}", flush=True)
            shown = seen
        code = WAIT_EXIT.get(answer["phase"])
        if code is not None:
            return code
        if time.monotonic() >= deadline:
            print(f"inferlane rollout: still {answer['phase']} after {timeout:g}s", file=sys.stderr)
            return 2
        time.sleep(every)


def _call(method: str, url: str, token: str | None) -> dict[str, Any] | int:
    request = urllib.request.Request(url, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            data: dict[str, Any] = json.loads(response.read())
            return data
    except urllib.error.HTTPError as error:
        print(f"inferlane rollout: {error.code}: {_message(error.read())}", file=sys.stderr)
        if error.code == 401 and not token:
            print("  (pass --token or set INFERLANE_ADMIN_TOKEN)", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        print(f"inferlane rollout: cannot reach the admin API at {url}: {reason}", file=sys.stderr)
        return 1


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return body.decode(errors="replace")[:200]


def describe(rollout: dict[str, Any]) -> str:
    """A few readable lines about one rollout."""
    step = rollout["step"]
    weights = ", ".join(f"{version} {weight}%" for version, weight in rollout["weights"].items())
    lines = [
        f"{rollout['model']}: {rollout['phase']} — {rollout['message']}",
        f"  weights: {weights}   step {step}/{rollout['steps']}   attempt {rollout['attempt']}",
    ]
    analysis = rollout["analysis"]
    if analysis["lastResult"] is not None:
        ago = f"{analysis['secondsAgo']:.0f}s ago"
        lines.append(f"  last analysis ({ago}): {analysis['lastResult']} — {analysis['lastReason']}")
    for version, stats in analysis["versions"].items():
        p99 = "-" if stats["p99Ms"] is None else f"{stats['p99Ms']:.3g}ms"
        lines.append(
            f"  {version}: {stats['samples']} requests in the window, "
            f"{stats['errorRate']:.2%} failed, p99 {p99}"
        )
    return "\n".join(lines)

"""``inferlane demo --rollout``: the demo's 7B model rolled out stable → canary with short steps.

The walkthrough is docs/guides/canary-rollout.md.
"""

from __future__ import annotations

from typing import Any

MODEL = "qwen2.5-7b-instruct"


def rollout_sections() -> dict[str, Any]:
    """Config sections added to the demo's: an admin token (``$INFERLANE_ADMIN_TOKEN``, else ``demo``; the
    demo listens on loopback only) and the rollout."""
    return {
        "admin": {"token": "${INFERLANE_ADMIN_TOKEN:-demo}"},
        "rollouts": [
            {
                "model": MODEL,
                "stableVersion": "stable",
                "canaryVersion": "canary",
                "steps": [
                    {"setWeight": 10},
                    {"pause": {"duration": "30s"}},
                    {"setWeight": 50},
                    {"pause": {}},
                    {"setWeight": 100},
                ],
                "analysis": {"interval": "5s", "window": "30s", "minSamples": 20},
            }
        ],
    }


def rollout_examples(base: str, admin: str, canary_url: str) -> str:
    chat = f'{{"model":"{MODEL}","max_tokens":4,"messages":[{{"role":"user","content":"Hi"}}]}}'
    return "\n".join(
        [
            f"Rollout of {MODEL}: stable → canary (docs/guides/canary-rollout.md); admin token 'demo'",
            "unless INFERLANE_ADMIN_TOKEN was set. Traffic (another terminal):",
            f"  seq 1000000 | xargs -P 4 -I{{}} curl -s -o /dev/null {base}/v1/chat/completions "
            f"-H 'content-type: application/json' -d '{chat}'",
            f"  inferlane rollout status {MODEL} --admin {admin}",
            f"  inferlane rollout promote {MODEL} --admin {admin} --token demo",
            f"  curl -s -XPOST {canary_url}/sim/faults -d '{{\"errorRate\":0.2}}'   # break the canary",
            f"  curl -s -XDELETE {canary_url}/sim/faults                        # mend it",
            f"  inferlane rollout resume {MODEL} --admin {admin} --token demo      # start over",
            "",
        ]
    )

"""docs/guides/canary-rollout.md shows configs that work: the demo's rollout as `--rollout` adds it, and a
complete proxy config that loads."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from inferlane.cli.demo_rollout import rollout_sections
from inferlane.config.load import parse_config
from inferlane.sim import FleetSpec

GUIDE = (Path(__file__).resolve().parents[3] / "docs" / "guides" / "canary-rollout.md").read_text("utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", GUIDE, flags=re.S)


def test_the_demo_snippet_is_what_demo_rollout_adds() -> None:
    (block,) = [b for b in BLOCKS if "qwen2.5-7b-instruct\n" in b and "rollouts:" in b]
    assert yaml.safe_load(block) == rollout_sections()


def test_the_own_fleet_config_and_fleet_file_load() -> None:
    (config,) = [b for b in BLOCKS if "models:" in b and "rollouts:" in b and "backends:" in b]
    loaded = parse_config(config, "guide", {"INFERLANE_ADMIN_TOKEN": "t"})
    assert [(r.model, r.stable_version, r.canary_version) for r in loaded.rollouts] == [
        ("qwen-chat", "v1", "v2")
    ]
    (fleet,) = [b for b in BLOCKS if b.startswith("timeScale:")]
    assert [m.name for m in FleetSpec.from_dict(yaml.safe_load(fleet)).models] == [
        "qwen2.5-7b-instruct",
        "qwen2.5-7b-instruct-canary",
    ]

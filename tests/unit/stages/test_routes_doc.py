"""The examples in docs/routes.md load as they are (the tokenizer path pointed at a real file)."""

from __future__ import annotations

import re
from pathlib import Path

from tokenizers import Tokenizer, models

from inferlane.config.load import parse_config

DOC = (Path(__file__).resolve().parents[3] / "docs" / "routes.md").read_text(encoding="utf-8")


def test_every_yaml_example_loads(tmp_path):
    tokenizer = tmp_path / "tokenizer.json"
    Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]")).save(str(tokenizer))
    blocks = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.S)
    assert len(blocks) == 4
    for block in blocks:
        config = parse_config(
            block.replace("/models/qwen2.5/tokenizer.json", str(tokenizer)), "routes.md", {}
        )
        assert config.routing.endpoints

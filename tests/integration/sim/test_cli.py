from __future__ import annotations

import argparse
from pathlib import Path

from inferlane.cli.sim import add_arguments, build_spec, run


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_quick_form() -> None:
    spec = build_spec(parse("--model", "qwen", "--port", "9100", "--replicas", "3", "--time-scale", "0.5"))
    model = spec.models[0]
    assert (model.name, model.port, model.replicas, spec.time_scale) == ("qwen", 9100, 3, 0.5)
    assert model.preset_name == "h100-7b" and model.engine.enable_prefix_caching


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text("timeScale: 0.1\nmodels:\n  - name: a\n    kind: tei\n  - name: b\n    replicas: 2\n")
    spec = build_spec(parse("--config", str(path)))
    assert [m.name for m in spec.models] == ["a", "b"] and spec.time_scale == 0.1


def test_bad_config_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text("models:\n  - name: a\n    replicaz: 2\n")
    assert run(parse("--config", str(path))) == 2
    assert run(parse()) == 2

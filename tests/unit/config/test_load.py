"""Config loading: every problem reported at once, with its camelCase path and the line it was written on."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferlane.config.load import load_config, parse_config
from inferlane.config.problems import ConfigError, Problem, format_report
from inferlane.config.schema import ProxyConfig

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def problems(text: str, env: dict[str, str] | None = None) -> list[tuple[str, str, int | None]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "proxy.yaml", env or {})
    return [(p.path, p.message, p.line) for p in caught.value.problems]


def only(text: str, env: dict[str, str] | None = None) -> tuple[str, str, int | None]:
    found = problems(text, env)
    assert len(found) == 1, found
    return found[0]


# --- the seed loads unchanged -------------------------------------------------------------------------


def test_seed_proxy_yaml_loads_unchanged() -> None:
    config = load_config(FIXTURES / "seed-proxy.yaml", env={})
    assert config.server.port == 15001
    assert (config.server.read_timeout, config.server.write_timeout) == (30.0, 120.0)
    assert config.batching.enabled and config.batching.max_batch_size == 32
    assert config.batching.max_wait_time_ms == 50 and config.batching.strategy == "dynamic"
    assert [r.path for r in config.routing.endpoints] == ["/v1/chat/completions", "/v1/embeddings"]
    assert config.routing.endpoints[1].max_batch_size == 64
    assert config.circuit_breaker.recovery_timeout == 30.0
    assert config.default_backend_name == "default"
    assert [b.endpoints for b in config.all_backends()] == [["http://localhost:8000"]]


def test_seed_configmap_loads_to_the_same_config() -> None:
    assert load_config(FIXTURES / "seed-configmap.yaml", env={}) == load_config(
        FIXTURES / "seed-proxy.yaml", env={}
    )


def test_configmap_problems_point_into_the_outer_file() -> None:
    text = (FIXTURES / "seed-configmap.yaml").read_text().replace("readTimeout", "readTimout")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "cm.yaml", {})
    (problem,) = caught.value.problems
    assert problem == Problem(
        "server.readTimout", "unknown key 'readTimout' (did you mean 'readTimeout'?)", 10, 7
    )
    assert text.splitlines()[9].strip().startswith("readTimout")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind: ConfigMap\ndata:\n  other.yaml: |\n    server:\n      port: 9\n", 9),
        ("kind: ConfigMap\ndata:\n  proxy.yaml: 'server: {port: 7}'\n", 7),
    ],
    ids=["only-yaml-key", "quoted-string"],
)
def test_configmap_payload_forms(text: str, expected: int) -> None:
    assert parse_config(text, env={}).server.port == expected


def test_configmap_without_proxy_yaml_names_its_keys() -> None:
    text = "kind: ConfigMap\ndata:\n  a.yaml: x\n  b.yaml: y\n"
    assert only(text) == (
        "data",
        "this ConfigMap has no 'proxy.yaml' text under 'data' (keys: a.yaml, b.yaml)",
        3,
    )


def test_empty_file_is_all_defaults() -> None:
    assert parse_config("# nothing yet\n", env={}) == ProxyConfig()


# --- schema problems, located ------------------------------------------------------------------------

CASES = [
    pytest.param(
        "server:\n  readTimout: 30s\n",
        ("server.readTimout", "unknown key 'readTimout' (did you mean 'readTimeout'?)", 2),
        id="unknown-key-suggestion",
    ),
    pytest.param(
        "sever:\n  port: 1\n",
        ("sever", "unknown key 'sever' (did you mean 'server'?)", 1),
        id="unknown-root-key",
    ),
    pytest.param(
        "server:\n  read_timeout_s: 1s\n",
        ("server.read_timeout_s", "unknown key 'read_timeout_s' (did you mean 'readTimeout'?)", 2),
        id="snake-case-typo",
    ),
    pytest.param(
        "logging:\n  colour: true\n",
        ("logging.colour", "unknown key 'colour' (allowed: accessLog, debugBodies, format, level)", 2),
        id="unknown-key-lists-allowed",
    ),
    pytest.param(
        "backends:\n  - name: a\n    endpoints: [http://a]\n  - name: b\n    endpoints: [http://b]\n"
        "    connectionPool:\n      maxConections: 3\n",
        (
            "backends[1].connectionPool.maxConections",
            "unknown key 'maxConections' (did you mean 'maxConnections'?)",
            7,
        ),
        id="nested-list-path",
    ),
    pytest.param(
        "routing:\n  endpoints:\n    - path: /a\n    - path: /b\n      retry:\n        attempt: 2\n",
        ("routing.endpoints[1].retry.attempt", "unknown key 'attempt' (did you mean 'attempts'?)", 6),
        id="optional-nested-model",
    ),
    pytest.param(
        "server:\n  readTimeout: soon\n",
        ("server.readTimeout", "invalid duration 'soon': use e.g. '30s', '50ms', '1m30s', '2h'", 2),
        id="bad-duration",
    ),
    pytest.param(
        "server:\n  maxBodySize: 10MB\n",
        (
            "server.maxBodySize",
            "invalid size '10MB': use e.g. '10Mi', '512Ki', '1G' or a number of bytes",
            2,
        ),
        id="bad-size",
    ),
    pytest.param(
        "server:\n  port: '8080'\n",
        ("server.port", "expected an integer, got a string (write the number without quotes)", 2),
        id="quoted-number",
    ),
    pytest.param(
        "server:\n  port: 70000\n",
        ("server.port", "must be less than or equal to 65535", 2),
        id="out-of-range",
    ),
    pytest.param(
        "server:\n",
        ("server", "is empty: write its keys below it, or remove it to use the defaults", 1),
        id="empty-section",
    ),
    pytest.param(
        "backends: {name: a}\n", ("backends", "expected a list, got a mapping", 1), id="mapping-for-list"
    ),
    pytest.param(
        "backends:\n  - name: a\n    endpoints: [http://a]\n    engine: vlm\n",
        (
            "backends[0].engine",
            "must be 'vllm', 'sglang', 'tgi', 'tei', 'triton', 'tfserving', 'kserve', 'openai' or 'generic'"
            " (did you mean 'vllm'?)",
            4,
        ),
        id="bad-choice-suggestion",
    ),
    pytest.param(
        "backends:\n  - name: a b\n    endpoints: [http://a]\n",
        ("backends[0].name", "must match pattern '^[A-Za-z0-9._-]+$'", 2),
        id="pattern",
    ),
    pytest.param(
        "backends:\n  - name: a\n    endpoints: []\n",
        ("backends[0].endpoints", "must have at least 1 item, not 0", 3),
        id="empty-list",
    ),
    pytest.param(
        "backends:\n  - name: a\n    endpoints: [http://a]\n  - name: b\n",
        ("backends[1].endpoints", "required key missing", 4),
        id="missing-key",
    ),
    pytest.param(
        "backends:\n  - name: a\n    endpoints: [http://a]\nrouting:\n  endpoints:\n"
        "    - path: /v1/chat\n      backend: chatt\n",
        ("routing.endpoints[0].backend", "unknown backend 'chatt'", 7),
        id="unknown-backend-reference",
    ),
    pytest.param(
        "routing:\n  defaultBackend: nope\n",
        ("routing.defaultBackend", "unknown backend 'nope'", 2),
        id="unknown-default-backend",
    ),
    pytest.param(
        "retry:\n  attempts: 1\n  retryOn: 5xx,sometimes\n",
        (
            "retry.retryOn",
            "unknown condition(s) sometimes; known: 5xx, connect-failure, gateway-error, reset, "
            "retriable-status-codes, timeout",
            3,
        ),
        id="validator-names-its-key",
    ),
    pytest.param(
        "routing:\n  endpoints:\n    - path: v1/chat\n",
        ("routing.endpoints[0]", "paths start with '/', got 'v1/chat'", 3),
        id="route-validator",
    ),
    pytest.param(
        "backends:\n  - name: a\n    endpoints: [http://a]\n  - name: a\n    endpoints: [http://b]\n",
        ("backends", "duplicate name(s) a", 1),
        id="duplicate-backend-names",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_schema_problem(text: str, expected: tuple[str, str, int]) -> None:
    assert only(text) == expected


def test_all_problems_are_reported_together_in_file_order() -> None:
    text = (
        "server:\n"
        "  port: high\n"
        "  readTimeout: soon\n"
        "backends:\n"
        "  - name: a\n"
        "    endpoints: [http://a]\n"
        "    connectionPool: {maxConections: 1}\n"
        "logging:\n"
        "  level: loud\n"
        "  level: quiet\n"
    )
    found = problems(text)
    assert [(path, line) for path, _, line in found] == [
        ("server.port", 2),
        ("server.readTimeout", 3),
        ("backends[0].connectionPool.maxConections", 7),
        ("logging.level", 9),
        ("logging.level", 10),
    ]


def test_report_has_one_line_per_problem_with_file_line_and_column() -> None:
    text = "server:\n  readTimout: 30s\nbackends:\n  - name: a\n    endpoints: [x]\n    connectionPool:\n"
    text += "      maxConections: 3\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "proxy.yaml", {})
    assert format_report(caught.value).splitlines() == [
        "proxy.yaml:2:3: server.readTimout: unknown key 'readTimout' (did you mean 'readTimeout'?)",
        "proxy.yaml:7:7: backends[0].connectionPool.maxConections: unknown key 'maxConections'"
        " (did you mean 'maxConnections'?)",
    ]
    assert str(caught.value) == format_report(caught.value)


# --- YAML-level problems -------------------------------------------------------------------------------

YAML_CASES = [
    pytest.param(
        "server:\n  port: 1\n  host: a\n  port: 2\n",
        ("server.port", "duplicate key 'port' (first on line 2, again on line 4)", 4),
        id="duplicate-key",
    ),
    pytest.param(
        "server:\n  port: [1, 2\nlogging: {}\n",
        (
            "",
            "invalid YAML: expected ',' or ']', but got ':'"
            " (while parsing a flow sequence started on line 2)",
            3,
        ),
        id="syntax-error",
    ),
    pytest.param(
        "server:\n  port: 1\n   host: x\n",
        ("", "invalid YAML: mapping values are not allowed here", 3),
        id="bad-indentation",
    ),
    pytest.param(
        "server:\n\tport: 1\n",
        (
            "",
            "invalid YAML: found character '\\t' that cannot start any token"
            " (while scanning for the next token); indent with spaces, not tabs",
            2,
        ),
        id="tab",
    ),
    pytest.param(
        "server: {}\n---\nlogging: {}\n",
        ("", "2 YAML documents in one file; the config is one document (remove '---')", 3),
        id="two-documents",
    ),
    pytest.param(
        "- a\n- b\n", ("", "the config must be a mapping of keys (like 'server:')", 1), id="list-root"
    ),
    pytest.param(
        "just text\n", ("", "the config must be a mapping of keys (like 'server:')", 1), id="scalar-root"
    ),
    pytest.param(
        "server:\n  ? [a, b]\n  : 1\n",
        ("server", "keys must be plain words, not lists or mappings", 2),
        id="complex-key",
    ),
    pytest.param(
        "server: &s\n  port: 1\n  <<: *s\n",
        ("server", "an alias refers to the value that contains it", 1),
        id="recursive-merge",
    ),
]


@pytest.mark.parametrize(("text", "expected"), YAML_CASES)
def test_yaml_problem(text: str, expected: tuple[str, str, int]) -> None:
    assert only(text) == expected


def test_single_leading_separator_and_trailing_empty_document_are_fine() -> None:
    assert parse_config("---\nserver: {port: 3}\n---\n", env={}).server.port == 3


def test_merge_keys_and_anchors_work_and_local_keys_win() -> None:
    text = (
        "backends:\n"
        "  - name: a\n"
        "    endpoints: [http://a]\n"
        "    connectionPool: &pool {maxConnections: 8, maxRequests: 9}\n"
        "  - name: b\n"
        "    endpoints: [http://b]\n"
        "    connectionPool:\n"
        "      <<: *pool\n"
        "      maxRequests: 99\n"
    )
    pool = parse_config(text, env={}).backends[1].connection_pool
    assert (pool.max_connections, pool.max_requests) == (8, 99)
    # a problem in a merged value points at the line it was written on (the anchor)
    bad = text.replace("maxConnections: 8", "maxConnections: 0")
    assert [(p, line) for p, _, line in problems(bad)] == [
        ("backends[0].connectionPool.maxConnections", 4),
        ("backends[1].connectionPool.maxConnections", 4),
    ]


# --- ${ENV} interpolation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [
        ("${TOKEN}", {"TOKEN": "s3cret"}, "s3cret"),
        ("Bearer ${TOKEN}", {"TOKEN": "s3cret"}, "Bearer s3cret"),
        ("${TOKEN:-fallback}", {}, "fallback"),
        ("${TOKEN:-fallback}", {"TOKEN": ""}, "fallback"),
        ("${TOKEN:-fallback}", {"TOKEN": "set"}, "set"),
        ("'${TOKEN:-}'", {}, ""),
        ("${TOKEN:-}", {}, None),  # unquoted and empty: null, like an empty value written there
        ("$${TOKEN}", {"TOKEN": "s3cret"}, "${TOKEN}"),
        ("a$${b}${TOKEN}", {"TOKEN": "c"}, "a${b}c"),
        ("plain $ and {braces}", {}, "plain $ and {braces}"),
        ("'12345'", {}, "12345"),
        ("'${N}'", {"N": "12345"}, "12345"),
    ],
)
def test_interpolation_in_strings(value: str, env: dict[str, str], expected: str | None) -> None:
    assert parse_config(f"admin:\n  token: {value}\n", env=env).admin.token == expected


def test_unquoted_reference_takes_the_type_of_its_value() -> None:
    env = {"PORT": "8081", "BODY": "1Mi", "ON": "true"}
    config = parse_config(
        "server:\n  port: ${PORT}\n  maxBodySize: ${BODY}\nbatching:\n  enabled: ${ON}\n", env=env
    )
    assert (config.server.port, config.server.max_body_size, config.batching.enabled) == (8081, 1024**2, True)
    quoted = only("server:\n  port: '${PORT}'\n", env)
    assert quoted == ("server.port", "expected an integer, got a string (write the number without quotes)", 2)


def test_interpolation_happens_after_parsing_so_values_cannot_inject_yaml() -> None:
    config = parse_config("admin:\n  token: ${T}\n", env={"T": "x\nserver: {port: 1}"})
    assert config.admin.token == "x\nserver: {port: 1}"
    assert config.server.port == 15001


def test_unset_variable_names_the_variable_and_path_once() -> None:
    assert only("server:\n  host: a\n  readTimeout: ${READ_TIMEOUT}\n") == (
        "server.readTimeout",
        "environment variable READ_TIMEOUT is not set (referenced as ${READ_TIMEOUT})",
        3,
    )


def test_every_unset_variable_is_reported() -> None:
    text = "admin:\n  token: ${A}-${B}\nbackends:\n  - name: x\n    endpoints: ['${C}']\n"
    assert [(path, message.split()[2]) for path, message, _ in problems(text)] == [
        ("admin.token", "A"),
        ("admin.token", "B"),
        ("backends[0].endpoints[0]", "C"),
    ]


def test_malformed_reference() -> None:
    assert only("admin:\n  token: ${not valid}\n") == (
        "admin.token",
        "malformed environment reference: write ${NAME} or ${NAME:-default}; $${ is a literal ${",
        2,
    )


@pytest.mark.parametrize(
    ("text", "path", "named"),
    [
        ("server:\n  readTimeout: ${SECRET}\n", "server.readTimeout", True),
        ("server:\n  readTimeout: 'x${SECRET}'\n", "server.readTimeout", True),
        ("routing:\n  defaultBackend: ${SECRET}\n", "routing.defaultBackend", True),
        ("routing:\n  endpoints:\n    - path: ${SECRET}\n", "routing.endpoints[0]", True),
        ("backends:\n  - name: ${SECRET}\n    endpoints: [x]\n", "backends[0].name", False),
    ],
)
def test_values_from_the_environment_never_appear_in_messages(text: str, path: str, named: bool) -> None:
    secret = "hunter2 very/secret"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "proxy.yaml", {"SECRET": secret})
    report = format_report(caught.value)
    assert secret not in report and "hunter2" not in report
    (problem,) = caught.value.problems
    assert problem.path == path
    # where the message would have quoted the value, it names the variable instead
    assert ("(value from ${SECRET})" in problem.message) == named


def test_load_config_reads_os_environ_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERLANE_TEST_PORT", "9123")
    path = tmp_path / "proxy.yaml"
    path.write_text("server:\n  port: ${INFERLANE_TEST_PORT}\n")
    assert load_config(path).server.port == 9123
    assert load_config(str(path), env={"INFERLANE_TEST_PORT": "9124"}).server.port == 9124


# --- files ---------------------------------------------------------------------------------------------


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "absent.yaml", env={})


def test_non_utf8_file_is_a_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "proxy.yaml"
    path.write_bytes(b"server:\n  host: caf\xe9\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert caught.value.problems == (Problem("", "the file is not UTF-8 text", 2),)
    assert caught.value.source == str(path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "proxy.yaml"
    path.write_bytes(b"\xef\xbb\xbfserver:\n  port: 5\n")
    assert load_config(path, env={}).server.port == 5


def test_alias_bomb_is_refused_not_expanded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    found = problems("\n".join(lines) + "\n")
    assert any("too many values" in message for _, message, _ in found)

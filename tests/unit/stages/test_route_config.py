"""Route-table validation: shadowed routes and overlapping token ranges are rejected, naming the routes
and pointing at the line of the losing route; well-formed tables load."""

from __future__ import annotations

import pytest

from inferlane.config.load import parse_config
from inferlane.config.problems import ConfigError

HEAD = """\
backends:
  - {name: a, endpoints: ["http://127.0.0.1:8000"]}
  - {name: b, endpoints: ["http://127.0.0.1:8001"]}
routing:
  defaultBackend: a
  endpoints:
"""


def problems(routes: str) -> list[tuple[str, str, int | None]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(HEAD + routes, "proxy.yaml", {})
    return [(p.path, p.message, p.line) for p in caught.value.problems]


SHADOWED = [
    # a prefix swallows a longer prefix
    """\
    - {name: all-v1, pathPrefix: /v1/}
    - {name: chat, pathPrefix: /v1/chat/, backend: b}
""",
    # a catch-all route before anything
    """\
    - {name: everything, backend: b}
    - {name: chat, path: /v1/chat/completions}
""",
    # a header present-check covers an exact value, methods subset, glob covers glob
    """\
    - {name: typed, headers: {x-model-type: {present: true}}, models: ["qwen*"], methods: [GET, POST]}
    - {name: chat, headers: {X-Model-Type: {exact: chat}}, models: ["qwen2*"], methods: [POST], backend: b}
""",
    # a wider token range first
    """\
    - {name: big, pathPrefix: /v1, promptTokens: {min: 1000}}
    - {name: huge, pathPrefix: /v1/chat, promptTokens: {min: 8000}, backend: b}
""",
    # body presence covers equality; regex covers a matching exact value
    """\
    - {name: tiered, body: {metadata.tier: {present: true}}, headers: {x-env: {regex: "prod|staging"}}}
    - {name: gold, body: {metadata.tier: {equals: gold}}, headers: {x-env: {exact: prod}}, backend: b}
""",
]


@pytest.mark.parametrize("routes", SHADOWED)
def test_shadowed_route_is_rejected_naming_both(routes):
    ((path, message, line),) = problems(routes)
    assert path == "routing.endpoints[1]"
    assert "is unreachable" in message and "routing.endpoints[0]" in message
    first, second = (r.split("name: ")[1].split(",")[0] for r in routes.strip().splitlines())
    assert f"route {second!r} is unreachable: route {first!r}" in message
    assert line == 8


def test_overlapping_token_ranges_are_rejected():
    found = problems(
        """\
    - {name: small, pathPrefix: /v1, promptTokens: {max: 1000}}
    - {name: medium, pathPrefix: /v1, promptTokens: {min: 900, max: 8000}}
    - {name: large, pathPrefix: /v1, promptTokens: {min: 8000}}
"""
    )
    assert found == [
        (
            "routing.endpoints[1]",
            "promptTokens [900, 8000) of route 'medium' overlaps [0, 1000) of route 'small' with the same "
            "other conditions; ranges are [min, max): let one end where the next begins "
            "(routing.endpoints[0])",
            8,
        )
    ]


LOADS = [
    # the seed's small/medium/large split
    """\
    - {name: small, pathPrefix: /v1, promptTokens: {max: 1000}}
    - {name: medium, pathPrefix: /v1, promptTokens: {min: 1000, max: 8000}}
    - {name: large, pathPrefix: /v1, promptTokens: {min: 8000}}
""",
    # specific before general; overlapping ranges with different other conditions are fine
    """\
    - {name: chat, pathPrefix: /v1/chat/, headers: {x-tier: {exact: gold}}, promptTokens: {max: 5000}}
    - {name: all-v1, pathPrefix: /v1/, promptTokens: {max: 8000}}
    - {name: catch-all}
""",
    # wildcards that only look alike, regexes that differ, absent vs present
    """\
    - {name: q, models: ["qwen?"]}
    - {name: q2, models: ["qwen*"]}
    - {name: r1, headers: {x: {regex: "a.*"}}}
    - {name: r2, headers: {x: {regex: "b.*"}}}
    - {name: nouser, headers: {x-user: {present: false}}}
    - {name: user, headers: {x-user: {present: true}}}
""",
]


@pytest.mark.parametrize("routes", LOADS)
def test_reachable_tables_load(routes):
    config = parse_config(HEAD + routes, "proxy.yaml", {})
    assert len(config.routing.endpoints) == len(routes.strip().splitlines())


@pytest.mark.parametrize(
    ("route", "path", "message"),
    [
        ("{path: /v1/x, pathPrefix: /v1}", "routing.endpoints[0]", "set at most one of"),
        ("{headers: {x: {exact: a, prefix: b}}}", "routing.endpoints[0].headers.x", "set exactly one"),
        (
            "{headers: {x: {regex: '('}}}",
            "routing.endpoints[0].headers.x.regex",
            "invalid regular expression",
        ),
        ("{body: {a.b: {}}}", "routing.endpoints[0].body.a.b", "set exactly one of 'equals' or 'present'"),
        ("{promptTokens: {min: 10, max: 10}}", "routing.endpoints[0].promptTokens", "must be greater"),
        ("{promptTokens: {tokenizer: nope}}", "routing.endpoints[0].promptTokens.tokenizer", "unknown tok"),
        ("{path: /v1, rewrite: {pathPrefix: /v2}}", "routing.endpoints[0].rewrite.pathPrefix", "no 'pathP"),
        ("{translate: chatToCompletions}", "routing.endpoints[0].translate", "completionsToChat"),
        (
            "{rewrite: {requestHeaders: {set: {x-a: '1'}, remove: [X-A]}}}",
            "routing.endpoints[0].rewrite.requestHeaders",
            "x-a appear in more than one",
        ),
    ],
)
def test_route_key_problems(route, path, message):
    ((where, text, _),) = problems(f"    - {route}\n")
    assert where == path and message in text, (where, text)

"""Human units in the YAML: durations (``30s``, ``50ms``, ``1m30s``) and sizes (``10Mi``)."""

from __future__ import annotations

import pytest

from inferlane.config.units import format_duration, parse_duration, parse_size


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30s", 30.0),
        ("50ms", 0.05),
        ("1m30s", 90.0),
        ("2h", 7200.0),
        ("1.5s", 1.5),
        ("250us", 0.00025),
        ("250µs", 0.00025),
        ("100ns", 1e-7),
        (" 30s ", 30.0),
        ("0s", 0.0),
        (30, 30.0),
        (0.5, 0.5),
        (0, 0.0),
    ],
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "invalid duration 'soon': use e.g. '30s', '50ms', '1m30s', '2h'"),
        ("30", "invalid duration '30': use e.g. '30s', '50ms', '1m30s', '2h'"),
        ("", "invalid duration '': use e.g. '30s', '50ms', '1m30s', '2h'"),
        ("-1s", "invalid duration '-1s': use e.g. '30s', '50ms', '1m30s', '2h'"),
        ("1d", "invalid duration '1d': use e.g. '30s', '50ms', '1m30s', '2h'"),
        ("30 s", "invalid duration '30 s': use e.g. '30s', '50ms', '1m30s', '2h'"),
        (-1, "durations cannot be negative or infinite"),
        (float("nan"), "durations cannot be negative or infinite"),
        (float("inf"), "durations cannot be negative or infinite"),
        (True, "a duration like '30s' or '50ms' is required, not a boolean"),
        ([1], "a duration like '30s' or '50ms' is required, got list"),
        (None, "a duration like '30s' or '50ms' is required, got NoneType"),
    ],
)
def test_bad_durations(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("10Mi", 10 * 1024**2),
        ("512Ki", 512 * 1024),
        ("1Gi", 1024**3),
        ("1Ti", 1024**4),
        ("1G", 10**9),
        ("2M", 2 * 10**6),
        ("4k", 4000),
        ("4K", 4000),
        ("100B", 100),
        ("100", 100),
        ("1.5Ki", 1536),
        (" 10 Mi ", 10 * 1024**2),
        (4096, 4096),
        (0, 0),
    ],
)
def test_sizes(value: object, size: int) -> None:
    assert parse_size(value) == size


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10MB", "invalid size '10MB': use e.g. '10Mi', '512Ki', '1G' or a number of bytes"),
        ("lots", "invalid size 'lots': use e.g. '10Mi', '512Ki', '1G' or a number of bytes"),
        ("-1Mi", "invalid size '-1Mi': use e.g. '10Mi', '512Ki', '1G' or a number of bytes"),
        ("10mi", "invalid size '10mi': use e.g. '10Mi', '512Ki', '1G' or a number of bytes"),
        (-5, "sizes cannot be negative"),
        (False, "a size like '10Mi' is required, not a boolean"),
        (1.5, "a size like '10Mi' is required, got float"),
    ],
)
def test_bad_sizes(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_size(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(30.0, "30s"), (0.05, "50ms"), (1.5, "1.5s"), (0.0, "0s"), (120.0, "120s")],
)
def test_format_duration_round_trips(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)

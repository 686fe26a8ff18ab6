from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest


@pytest.fixture
def fleet(sim_fleet: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """``await fleet(**quick)``: a started simulator fleet (see ``sim_fleet``)."""
    return functools.partial(sim_fleet, ready=False)

"""A fresh metrics registry made current for one test, and reading a sample from it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot import metrics
from bot.metrics import Metrics


@pytest.fixture(name="registry")
def registry_fixture() -> Iterator[Metrics]:
    bound = Metrics()
    token = metrics.bind(bound)
    try:
        yield bound
    finally:
        metrics.reset(token)


def sample(registry: Metrics, name: str, **labels: str) -> float:
    """The sample's value; 0 when the series has not been touched yet."""
    return registry.registry.get_sample_value(name, labels) or 0.0

"""Pytest fixtures for the fakes; registered as a plugin (`pytest_plugins`) by tests/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.openai_server import OpenAIFake
from tests.fakes.scripted_model import ScriptedChatModel


@pytest.fixture
async def openai_fake() -> AsyncIterator[OpenAIFake]:
    """A running OpenAI-compatible fake; at teardown it fails on unexpected or unused steps."""
    async with OpenAIFake() as fake:
        yield fake


@pytest.fixture
async def scripted_model() -> AsyncIterator[ScriptedChatModel]:
    """An in-process ChatModel; at teardown it fails if a scripted step was not consumed."""
    model = ScriptedChatModel()
    yield model
    await model.aclose()
    model.assert_consumed()

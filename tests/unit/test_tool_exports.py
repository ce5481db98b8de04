"""Every tool is offered identically to OpenAI (tool JSON) and to LangChain (StructuredTool).

Compared: name, description and the JSON schema of the parameters, after one normalisation:
LangChain's converter drops the `title` that pydantic gives each property (titles are
derived from the field names and tell the model nothing), so titles are removed from both
sides. Everything else — descriptions, bounds, enums, defaults, `required` and
`additionalProperties: false` — must be equal.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pytest
from langchain_core.utils.function_calling import convert_to_openai_tool

from bot.llm import function_tool
from bot.tooling import ToolSpec
from tools import all_tools

Runner = Callable[[str, dict[str, Any]], Awaitable[str]]


def to_structured_tools(specs: Iterable[ToolSpec[Any]], run: Runner) -> list[Any]:
    # Imported per test, not at module level: until bot.llm_langchain has the function these
    # tests fail one by one instead of stopping the whole session at collection.
    from bot.llm_langchain import to_structured_tools as export

    return export(specs, run)


def without_titles(schema: Any) -> Any:
    """The schema with every property's generated `title` removed (property names are kept)."""
    if isinstance(schema, list):
        return [without_titles(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    cleaned: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "properties" and isinstance(value, dict):
            cleaned[key] = {name: without_titles(sub) for name, sub in value.items()}
        else:
            cleaned[key] = without_titles(value)
    return cleaned


async def _never_run(name: str, arguments: dict[str, Any]) -> str:
    raise AssertionError(f"{name} must not run while exporting")


def test_every_tool_exports_the_same_to_openai_and_langchain() -> None:
    specs = all_tools()
    structured = to_structured_tools(specs, _never_run)
    assert [tool.name for tool in structured] == [spec.name for spec in specs]
    for spec, tool in zip(specs, structured, strict=True):
        ours = function_tool(spec.schema())
        theirs = convert_to_openai_tool(tool)
        assert theirs["type"] == ours["type"] == "function"
        assert theirs["function"]["name"] == ours["function"]["name"] == spec.name
        assert theirs["function"]["description"] == ours["function"]["description"]
        assert ours["function"]["description"], f"{spec.name} has no description"
        assert without_titles(theirs["function"]["parameters"]) == without_titles(
            ours["function"]["parameters"]
        ), spec.name


def test_strictness_survives_the_langchain_export() -> None:
    """The model must see `additionalProperties: false` through LangChain too."""
    for tool in to_structured_tools(all_tools(), _never_run):
        parameters = convert_to_openai_tool(tool)["function"]["parameters"]
        assert parameters.get("additionalProperties") is False, tool.name


EXAMPLE_ARGUMENTS: dict[str, dict[str, Any]] = {
    "search_kb": {"query": "VPN keeps disconnecting", "category": "Network"},
    "get_kb_article": {"article_id": 1},
    "check_outages": {},
    "list_my_tickets": {"status": "open"},
    "get_ticket": {"ticket_number": 3012},
    "create_ticket": {"subject": "VPN drops", "description": "Since 9:00.", "priority": 2},
    "add_ticket_comment": {"ticket_number": 3012, "comment": "Still happening."},
    "update_ticket": {"ticket_number": 3012, "status": "closed"},
    "create_ticket_from_chat": {"subject": "Printer offline"},
    "list_my_assets": {},
    "list_pending_approvals": {},
    "approve_ticket": {"ticket_number": 3029},
    "reject_ticket": {"ticket_number": 3030, "reason": "Use the shared licence."},
    "escalate_to_human": {"reason": "user asked for a person"},
}


def test_every_tool_has_a_valid_example() -> None:
    assert sorted(EXAMPLE_ARGUMENTS) == sorted(spec.name for spec in all_tools())
    for spec in all_tools():
        spec.parse(json.dumps(EXAMPLE_ARGUMENTS[spec.name]))


@pytest.mark.parametrize("spec", all_tools(), ids=lambda spec: spec.name)
async def test_a_langchain_call_reaches_the_runner_with_the_models_arguments(
    spec: ToolSpec[Any],
) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    async def run(name: str, arguments: dict[str, Any]) -> str:
        seen.append((name, arguments))
        return json.dumps({"ok": name})

    (tool,) = to_structured_tools([spec], run)
    arguments = EXAMPLE_ARGUMENTS[spec.name]
    result = await tool.ainvoke(arguments)
    assert json.loads(result) == {"ok": spec.name}
    assert seen == [(spec.name, arguments)]

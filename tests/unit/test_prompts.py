"""Every prompt renders with the values the code provides, and a missing value is an error."""

import pytest

from bot import prompts

VALUES = {
    "tenant_name": "Harbor IT Services",
    "user_name": "Jane Smith",
    "company_name": "Acme Corp",
    "date": "2026-11-29",
    "previous_summary": "",
    "transcript": "user: VPN drops\nassistant: Try reconnecting.",
    "reason": "user asked for a person",
}


@pytest.mark.parametrize("name", prompts.names())
def test_every_prompt_renders(name: str) -> None:
    needed = prompts.placeholders(name)
    assert needed <= VALUES.keys(), f"{name} uses placeholders the tests do not know: {needed}"
    text = prompts.render(name, **{key: VALUES[key] for key in needed})
    assert "${" not in text
    assert text.strip()


def test_system_prompt_carries_tenant_user_and_date() -> None:
    text = prompts.render("system", **{k: VALUES[k] for k in prompts.placeholders("system")})
    assert "Harbor IT Services" in text
    assert "Jane Smith" in text
    assert "2026-11-29" in text


def test_every_tool_has_a_description() -> None:
    tools = {name.split("/", 1)[1] for name in prompts.names() if name.startswith("tools/")}
    assert {"search_kb", "create_ticket", "escalate_to_human", "reject_ticket"} <= tools
    assert len(tools) == 14


def test_missing_value_is_an_error() -> None:
    with pytest.raises(prompts.PromptError, match="user_name"):
        prompts.render("system", tenant_name="x", company_name="y", date="z")


def test_unknown_prompt_is_an_error() -> None:
    with pytest.raises(prompts.PromptError):
        prompts.load("no_such_prompt")

"""Every prompt renders with the values the code provides, and a missing value is an error."""

import re
from pathlib import Path

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
    # replies/ and notes/
    "answer": "Restart the VPN client.",
    "index": 2,
    "limit": "10,000",
    "omitted": "950,167",
    "error": "ticket 3018 not found",
    "name": "Alex Agent",
    "note": "Jane's VPN drops every hour.",
    "number": 3051,
    "result": "{'status': 'done', 'ticket_number': 3051}",
    "subject": "VPN drops",
    "summary": "Jane asked about the VPN.",
    "text": "I'm looking at it now.",
    "title": "Create a ticket",
    "tool": "create_ticket",
    # the channels' replies
    "channel": "Slack",
    "count": 2,
    "links": "[VPN setup](https://kb.example/1)",
    "minutes": 15,
    "offers": "Create a ticket | Talk to a human",
    "priority": "High",
    "seconds": 3,
    "service": "VPN",
    "status": "degraded",
    "where": "Just write to me here.",
    "who": "Jane Smith",
}

ROOT = Path(__file__).resolve().parents[2]
# prompts.reply("name", ...) / prompts.note("name", ...) and the done texts tools declare
_CALL = re.compile(r"""(?:prompts\.(reply|note)|done_reply)\(\s*f?["']([a-z_{}]+)["']\s*[,)]""")


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


def _named_in(*folders: str) -> set[str]:
    """The replies and notes the code in `folders` names as literals."""
    named = set()
    for path in (p for top in folders for p in ROOT.joinpath(top).rglob("*.py")):
        for kind, name in _CALL.findall(path.read_text(encoding="utf-8")):
            if "{" not in name:  # names built at run time are checked by the engine tests
                named.add(f"{'notes' if kind == 'note' else 'replies'}/{name}")
    return named


def test_every_sentence_the_code_names_exists() -> None:
    """Each reply and note the core, the tools and the channels name is a file that renders."""
    named = _named_in("bot", "tools", "adapters")
    assert len(_named_in("adapters")) > 150, _named_in("adapters")
    assert named <= set(prompts.names()), named - set(prompts.names())


# Replies only the channels use; none is left behind when a channel stops naming it.
_CHANNEL_PREFIXES = tuple(
    f"replies/{prefix}_"
    for prefix in (
        *("channel", "slack", "teams", "web", "terminal"),
        *("link_form", "link_done", "link_refused", "link_channel"),
    )
)


def test_every_channel_sentence_is_named_by_a_channel() -> None:
    kept = {name for name in prompts.names() if name.startswith(_CHANNEL_PREFIXES)}
    assert len(kept) > 100, kept
    assert kept <= _named_in("adapters"), kept - _named_in("adapters")


def test_user_facing_sentences_keep_their_wording() -> None:
    assert prompts.reply("write_cancelled") == "Cancelled — nothing was changed."
    assert (
        prompts.reply("done_create_ticket", number=3051, subject="VPN drops")
        == "Created ticket **3051** — VPN drops."
    )
    assert prompts.reply("handoff_joined", name="Alex") == "Alex joined"
    assert prompts.reply("turn_val_ai_suggests", answer="Reboot.") == (
        "Here's what the helpdesk's assistant suggests:\n\nReboot."
    )


def test_channel_sentences_keep_their_wording() -> None:
    assert prompts.reply("channel_sorry") == (
        "Sorry — something went wrong on my side. Please try again in a moment."
    )
    assert prompts.reply("teams_only_managers_approve") == "Only managers have tickets to approve."
    assert prompts.reply("slack_passed_to_agent_thread", where="<https://t|the thread>") == (
        "I passed your message on to <https://t|the thread>; please continue there."
    )
    assert prompts.reply("web_too_fast", seconds=3).endswith("please try again in 3 seconds.")
    assert prompts.reply("link_refused_new_link", where="Slack") == (
        "Send the assistant any message in Slack and it will give you a new link."
    )
    assert prompts.reply("teams_help").startswith("**What you can type**\n\n- **tickets**")


def test_missing_value_is_an_error() -> None:
    with pytest.raises(prompts.PromptError, match="user_name"):
        prompts.render("system", tenant_name="x", company_name="y", date="z")


def test_unknown_prompt_is_an_error() -> None:
    with pytest.raises(prompts.PromptError):
        prompts.load("no_such_prompt")

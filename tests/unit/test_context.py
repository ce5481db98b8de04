"""The context builder keeps every request within the token budget, and never splits a turn."""

from bot.context import (
    KEEP_AFTER_FOLD,
    HistoryItem,
    estimate_tokens,
    fit_to_budget,
    group_turns,
    message_tokens,
    plan_context,
    tools_tokens,
    transcript,
    truncate_to_tokens,
)
from bot.llm import ModelMessage, ToolCall, ToolSchema

TOOLS = [
    ToolSchema(
        name="search_kb",
        description="Search the knowledge base.",
        parameters={"type": "object", "properties": {"query": {"type": "string"}}},
    )
]


def _turn(seq: int, words: int) -> list[HistoryItem]:
    text = " ".join(["vpn"] * words)
    call = ToolCall(id=f"c{seq}", name="search_kb", arguments='{"query": "vpn"}')
    return [
        HistoryItem(seq, ModelMessage(role="user", content=f"question {seq}: {text}")),
        HistoryItem(seq + 1, ModelMessage(role="assistant", tool_calls=(call,))),
        HistoryItem(seq + 2, ModelMessage(role="tool", content=text, tool_call_id=f"c{seq}")),
        HistoryItem(seq + 3, ModelMessage(role="assistant", content=f"answer {seq}")),
    ]


def test_input_stays_within_budget_and_flat_over_sixty_turns() -> None:
    history: list[HistoryItem] = []
    sizes = []
    for turn in range(60):
        history.extend(_turn(turn * 4, words=120))
        plan = plan_context(
            system="You are helpful.",
            summary="s" * 400,
            history=history,
            tools=TOOLS,
            budget=2000,
        )
        sizes.append(plan.input_tokens)
        assert plan.input_tokens <= 2000
        sent = plan.messages
        assert sent[0].role == "system"
        assert sent[-1].content == f"answer {turn * 4}"
    # Once the budget is reached the size stops growing.
    plateau = sizes[20:]
    assert max(plateau) - min(plateau) < 250, sizes


def test_older_turns_are_named_for_folding_and_none_is_lost() -> None:
    history = [item for turn in range(10) for item in _turn(turn * 4, words=200)]
    plan = plan_context(system="sys", summary=None, history=history, tools=(), budget=1200)
    kept = {m.content for m in plan.messages if m.role == "user"}
    folded = {item.seq for item in plan.fold}
    assert folded, "something must be folded at this budget"
    for item in history:
        if item.message.role == "user":  # sent, or folded, or both (folded ahead of need)
            assert item.message.content in kept or item.seq in folded
    assert history[-1].seq not in folded, "the current turn is never folded"
    assert folded == set(range(max(folded) + 1)), "the oldest turns are folded, none skipped"


def test_nothing_is_folded_while_everything_fits() -> None:
    history = [item for turn in range(3) for item in _turn(turn * 4, words=20)]
    plan = plan_context(system="sys", summary=None, history=history, tools=TOOLS, budget=4000)
    assert plan.fold == []
    assert len(plan.messages) == 1 + len(history)


def test_folds_come_in_chunks_far_apart_over_sixty_turns() -> None:
    """Once the budget is reached, a fold leaves the history well below it, so the next
    fold (a summary model call) is turns away — not one on every turn."""
    history: list[HistoryItem] = []
    folds, sizes = 0, []
    for turn in range(60):
        history.extend(_turn(turn * 4, words=120))
        plan = plan_context(
            system="sys", summary="s" * 400, history=history, tools=TOOLS, budget=2000
        )
        sizes.append(plan.input_tokens)
        if plan.fold:
            folds += 1
            folded = {item.seq for item in plan.fold}
            history = [item for item in history if item.seq not in folded]
            left = sum(message_tokens(item.message) for item in history)
            assert left <= KEEP_AFTER_FOLD * 2000, "folded down well below the budget"
    assert 1 < folds <= 60 // 4, folds
    assert max(sizes) <= 2000


def test_a_tool_call_is_never_separated_from_its_result() -> None:
    history = [item for turn in range(8) for item in _turn(turn * 4, words=150)]
    plan = plan_context(system="sys", summary=None, history=history, tools=TOOLS, budget=900)
    call_ids = {c.id for m in plan.messages for c in m.tool_calls}
    result_ids = {m.tool_call_id for m in plan.messages if m.role == "tool"}
    assert call_ids == result_ids


def test_the_current_turn_is_kept_even_when_it_alone_exceeds_the_budget() -> None:
    huge = [HistoryItem(1, ModelMessage(role="user", content="word " * 5000))]
    plan = plan_context(system="sys", summary=None, history=huge, tools=(), budget=1000)
    assert plan.messages[-1].role == "user"
    assert plan.messages[-1].content is not None
    assert plan.messages[-1].content.endswith("…")
    assert plan.fold == []


def test_group_turns_starts_a_group_at_each_user_message() -> None:
    history = _turn(0, 1) + _turn(4, 1)
    assert [len(g) for g in group_turns(history)] == [4, 4]


def test_truncation_and_estimates() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd" * 100) >= 100
    assert truncate_to_tokens("short", 10) == "short"
    cut = truncate_to_tokens("x" * 1000, 10)
    assert cut.endswith("…") and estimate_tokens(cut) <= 11


def test_transcript_shows_calls_and_results() -> None:
    text = transcript(_turn(0, 3))
    assert "user: question 0" in text
    assert "assistant called: search_kb" in text
    assert "tool result: vpn vpn vpn" in text


def test_each_step_of_a_long_turn_is_refitted_to_the_budget() -> None:
    history = [item.message for turn in range(6) for item in _turn(turn * 4, words=150)]
    system = [ModelMessage(role="system", content="sys")]
    current = _turn(100, words=3)[:3]  # a user question, a tool call and a huge result...
    huge = ModelMessage(role="tool", content="body " * 4000, tool_call_id="c100")
    messages = system + history + [current[0].message, current[1].message, huge]

    fitted = fit_to_budget(messages, tools=TOOLS, budget=1500)

    assert sum(message_tokens(m) for m in fitted) + tools_tokens(TOOLS) <= 1500
    assert fitted[0].content == "sys"
    assert fitted[-3].content == current[0].message.content  # the question survives whole
    assert fitted[-1].tool_call_id == "c100" and (fitted[-1].content or "").endswith("…")
    assert not any(m.content and m.content.startswith("question 0:") for m in fitted)


def test_fitting_keeps_what_already_fits() -> None:
    messages = [ModelMessage(role="system", content="sys")] + [i.message for i in _turn(0, 5)]
    assert fit_to_budget(messages, tools=TOOLS, budget=5000) == messages

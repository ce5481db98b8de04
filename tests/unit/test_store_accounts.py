"""Linked identities (ciphertext tokens), widget sessions, generated secrets, ratings."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import Identity, Store

T0 = datetime(2026, 3, 13, 10, 0, tzinfo=UTC)


async def link_jane(
    store: Store, *, access: bytes = b"gAAAA-access-1", now: datetime = T0
) -> Identity:
    return await store.link_identity(
        "slack",
        "U024BE7LH",
        employee_number="1001",
        email="jane@acme.example",
        display_name="Jane Smith",
        company="Acme Corp",
        access_token=access,
        refresh_token=b"gAAAA-refresh-1",
        access_expires_at=now + timedelta(hours=1),
        now=now,
    )


async def test_a_linked_identity_keeps_ciphertext_tokens_as_given(store: Store) -> None:
    linked = await link_jane(store)

    found = await store.get_identity("slack", "U024BE7LH")
    assert found == linked
    assert (linked.access_token, linked.refresh_token) == (b"gAAAA-access-1", b"gAAAA-refresh-1")
    assert linked.access_expires_at == T0 + timedelta(hours=1)
    assert await store.get_identity_by_id(linked.id) == linked
    assert await store.get_identity("teams", "U024BE7LH") is None


async def test_linking_again_replaces_the_link_in_place(store: Store) -> None:
    first = await link_jane(store)
    again = await link_jane(store, access=b"gAAAA-access-2", now=T0 + timedelta(days=1))

    assert again.id == first.id
    assert again.access_token == b"gAAAA-access-2"
    assert again.linked_at == T0 + timedelta(days=1)


async def test_refreshed_tokens_keep_the_refresh_token_unless_replaced(store: Store) -> None:
    linked = await link_jane(store)

    assert await store.update_tokens(
        linked.id, access_token=b"gAAAA-access-2", access_expires_at=T0 + timedelta(hours=2)
    )
    refreshed = await store.get_identity_by_id(linked.id)
    assert refreshed is not None
    assert (refreshed.access_token, refreshed.refresh_token) == (
        b"gAAAA-access-2",
        b"gAAAA-refresh-1",
    )

    await store.update_tokens(
        linked.id, access_token=b"a3", access_expires_at=None, refresh_token=b"r2"
    )
    rotated = await store.get_identity_by_id(linked.id)
    assert rotated is not None
    assert (rotated.refresh_token, rotated.access_expires_at) == (b"r2", None)


async def test_unlinking_forgets_the_identity_and_its_widget_sessions(store: Store) -> None:
    linked = await link_jane(store)
    await store.create_web_session(
        "sha256:abc", identity_id=linked.id, expires_at=T0 + timedelta(days=7), now=T0
    )

    assert await store.unlink_identity("slack", "U024BE7LH") is True
    assert await store.unlink_identity("slack", "U024BE7LH") is False

    assert await store.get_identity("slack", "U024BE7LH") is None
    assert await store.get_web_session("sha256:abc", now=T0) is None


async def test_a_web_session_is_valid_until_it_expires_or_is_revoked(store: Store) -> None:
    linked = await link_jane(store)
    expires = T0 + timedelta(days=7)
    created = await store.create_web_session(
        "sha256:abc", identity_id=linked.id, expires_at=expires, now=T0
    )

    assert await store.get_web_session("sha256:abc", now=T0) == created
    assert await store.get_web_session("sha256:abc", now=expires) is None
    assert await store.get_web_session("sha256:other", now=T0) is None

    assert await store.revoke_web_session("sha256:abc", now=T0) is True
    assert await store.revoke_web_session("sha256:abc", now=T0) is False
    assert await store.get_web_session("sha256:abc", now=T0) is None


async def test_replicas_generating_a_secret_at_once_agree_on_one(
    store: Store, other_store: Store
) -> None:
    assert await store.get_secret("BOT_SECRET_KEY") is None
    replicas = [store, other_store] * 5

    kept = await asyncio.gather(
        *(r.get_or_create_secret("BOT_SECRET_KEY", f"key-{n}") for n, r in enumerate(replicas))
    )

    assert len(set(kept)) == 1
    assert await store.get_secret("BOT_SECRET_KEY") == kept[0]
    assert await store.get_or_create_secret("BOT_SECRET_KEY", "another") == kept[0]


async def test_rating_twice_for_one_chat_keeps_the_last_score(store: Store) -> None:
    conversation = await store.get_or_create_conversation("web", "w-1", user_key="E7")

    await store.record_rating(conversation.id, rating_key="chat-101", score=3, now=T0)
    changed = await store.record_rating(
        conversation.id, rating_key="chat-101", score=5, now=T0 + timedelta(seconds=5)
    )
    await store.record_rating(
        conversation.id, rating_key="chat-202", score=4, now=T0 + timedelta(hours=1)
    )

    assert (changed.score, changed.created_at, changed.updated_at) == (
        5,
        T0,
        T0 + timedelta(seconds=5),
    )
    ratings = await store.ratings_for(conversation.id)
    assert [(r.rating_key, r.score) for r in ratings] == [("chat-101", 5), ("chat-202", 4)]


@pytest.mark.parametrize("score", [0, 6])
async def test_a_rating_outside_one_to_five_is_refused(store: Store, score: int) -> None:
    conversation = await store.get_or_create_conversation("web", "w-1", user_key="E7")

    with pytest.raises(ValueError, match="between 1 and 5"):
        await store.record_rating(conversation.id, rating_key="chat-101", score=score)

    assert await store.ratings_for(conversation.id) == []

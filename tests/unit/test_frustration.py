"""A person is offered on frustration or repeated rephrasing, and not on ordinary questions."""

import pytest

from bot.frustration import similar, wants_a_person


@pytest.mark.parametrize(
    "text",
    [
        "this is useless",
        "That didn't help at all",
        "still not working!!!",
        "I'm so frustrated with this VPN",
        "for the third time, my printer is offline",
    ],
)
def test_frustration_offers_a_person(text: str) -> None:
    assert wants_a_person(text, [])


def test_asking_the_same_thing_a_third_time_offers_a_person() -> None:
    earlier = ["my vpn keeps disconnecting", "vpn keeps disconnecting every hour"]
    assert wants_a_person("the vpn keeps disconnecting", earlier)
    assert not wants_a_person("the vpn keeps disconnecting", earlier[:1])


@pytest.mark.parametrize(
    "text", ["How do I add a printer?", "Is the VPN down?", "thanks, that worked!"]
)
def test_ordinary_questions_do_not(text: str) -> None:
    assert not wants_a_person(text, ["How do I reset MFA?", "What is the Wi-Fi password policy?"])


def test_similarity_needs_shared_meaningful_words() -> None:
    assert similar("printer offline in room 3", "room 3 printer is offline")
    assert not similar("printer offline", "vpn offline")

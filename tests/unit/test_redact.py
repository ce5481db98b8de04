"""Secrets a user pastes are masked; ordinary helpdesk sentences survive intact."""

import pytest

from bot.redact import MASK, mask_secrets


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("my password is hunter2, can you reset it?", "hunter2"),
        ("Password: S3cret!pass", "S3cret!pass"),
        ("my new password Winter2026! does not work", "Winter2026!"),
        ('my password was "correct horse battery"', "correct horse battery"),
        ("passcode = 1234", "1234"),
        ("the MFA code is 482913", "482913"),
        ("the otp 123456 failed", "123456"),
        ("key sk-proj-abcdefghijklmnop1234 leaked", "sk-proj-abcdefghijklmnop1234"),
        ("token xoxb-1234567890-abcdef", "xoxb-1234567890-abcdef"),
        ("AKIAABCDEFGHIJKLMNOP is our key", "AKIAABCDEFGHIJKLMNOP"),
        (
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghijk",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghijk",
        ),
    ],
)
def test_pasted_secrets_are_masked(text: str, secret: str) -> None:
    result = mask_secrets(text)
    assert secret not in result.text
    assert MASK in result.text
    assert result.found


@pytest.mark.parametrize(
    "text",
    [
        "I forgot my password and need a reset",
        "password reset for ticket 3018 please",
        "My password expired yesterday",
        "my password is not working since Monday",
        "the password is too short according to the policy",
        "serial 5CG1234XYZ on my laptop",
        "VPN keeps dropping at Main Office, ticket #3012",
        "How do I set up MFA on a new phone?",
    ],
)
def test_ordinary_sentences_survive(text: str) -> None:
    result = mask_secrets(text)
    assert result.text == text
    assert not result.found

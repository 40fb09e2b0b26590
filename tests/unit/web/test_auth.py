import base64

import pytest

from app.web.auth import Tokens, presented_secret


@pytest.mark.parametrize(
    ("header", "secret"),
    [
        ("Bearer abc", b"abc"),
        ("bearer  abc ", b"abc"),
        ("Basic " + base64.b64encode(b"alertmanager:abc").decode(), b"abc"),
        ("Basic " + base64.b64encode(b":abc:def").decode(), b"abc:def"),
        ("Basic not-base64!", None),
        ("Digest abc", None),
        ("", None),
        (None, None),
    ],
)
def test_presented_secret(header: str | None, secret: bytes | None) -> None:
    assert presented_secret(header) == secret


def test_roles() -> None:
    tokens = Tokens(webhook=b"w", operator=b"o", viewer=b"v")
    assert [tokens.role_of(t) for t in (b"w", b"o", b"v", b"x", b"")] == [
        "webhook",
        "operator",
        "viewer",
        None,
        None,
    ]
    assert Tokens(webhook=b"w", operator=b"o", viewer=None).role_of(b"") is None

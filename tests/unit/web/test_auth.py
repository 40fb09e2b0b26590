import base64

import pytest

from app.web.auth import presented_secret


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

import pytest

from master.store.types import prefix_end


@pytest.mark.parametrize(
    ("prefix", "end"),
    [
        pytest.param(b"/registry/pods/", b"/registry/pods0", id="slash"),
        pytest.param(b"a", b"b", id="one-byte"),
        pytest.param(b"a\xff", b"b", id="carry"),
        pytest.param(b"\xff\xff", b"\0", id="all-ff"),
        pytest.param(b"", b"\0", id="empty"),
    ],
)
def test_prefix_end(prefix: bytes, end: bytes) -> None:
    assert prefix_end(prefix) == end

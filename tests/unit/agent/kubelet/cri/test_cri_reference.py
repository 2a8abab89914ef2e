import pytest

from agent.kubelet.cri.errors import InvalidArgumentError
from agent.kubelet.cri.reference import is_image_id, normalize_image

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("ref", "want"),
    [
        pytest.param("busybox", "docker.io/library/busybox:latest", id="short"),
        pytest.param("busybox:1.36", "docker.io/library/busybox:1.36", id="short-tag"),
        pytest.param("team/app", "docker.io/team/app:latest", id="docker-user"),
        pytest.param("index.docker.io/team/app:2", "docker.io/team/app:2", id="index-docker-io"),
        pytest.param("docker.io/nginx", "docker.io/library/nginx:latest", id="docker-io-library"),
        pytest.param("localhost/pause", "localhost/pause:latest", id="localhost"),
        pytest.param("localhost/web:2", "localhost/web:2", id="localhost-tag"),
        pytest.param("10.77.0.1:5000/web:2", "10.77.0.1:5000/web:2", id="registry-port"),
        pytest.param("ghcr.io/a/b/c:v1.0", "ghcr.io/a/b/c:v1.0", id="nested"),
        pytest.param(f"web@{DIGEST}", f"docker.io/library/web@{DIGEST}", id="digest"),
        pytest.param(f"localhost/web:1@{DIGEST}", f"localhost/web:1@{DIGEST}", id="tag-and-digest"),
        pytest.param(DIGEST, DIGEST, id="image-id"),
        pytest.param("ab" * 32, DIGEST, id="bare-image-id"),
    ],
)
def test_normalize_image(ref: str, want: str) -> None:
    assert normalize_image(ref) == want


@pytest.mark.parametrize(
    "ref",
    [
        pytest.param("", id="empty"),
        pytest.param("Busybox", id="uppercase"),
        pytest.param("busy box", id="space"),
        pytest.param(" busybox", id="leading-space"),
        pytest.param("web:", id="empty-tag"),
        pytest.param("web:a/b", id="slash-in-tag-is-a-path"),
        pytest.param("web@sha256:xyz", id="bad-digest"),
        pytest.param("localhost//web", id="empty-component"),
    ],
)
def test_invalid_references(ref: str) -> None:
    with pytest.raises(InvalidArgumentError, match="invalid image reference"):
        normalize_image(ref)


def test_is_image_id() -> None:
    assert is_image_id(DIGEST) and is_image_id("ab" * 32)
    assert not is_image_id("busybox") and not is_image_id("sha256:abc")

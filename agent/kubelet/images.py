"""Making a container's image present, by its ``imagePullPolicy``.

    Always         pull every time a container starts
    IfNotPresent   pull only when the runtime does not have it
    Never          never pull; absent -> ErrImageNeverPull

A failed pull is ErrImagePull; while the image's backoff (10 s doubling to 5 min, per pod and
image) runs, further attempts are not made and the container waits with ImagePullBackOff.
Outcomes are values (``ImageResult``), with the event the kubelet records::

    ok      Pulled   'Container image "localhost/web:1" already present on machine'
    failed  ErrImagePull / ImagePullBackOff / ErrImageNeverPull / InvalidImageName
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.kubelet.backoff import Backoff
from agent.kubelet.cri import CRIError, ImagePullError, InvalidArgumentError, Runtime
from agent.kubelet.cri.reference import normalize_image
from agent.kubelet.cri.types import SandboxConfig
from master.util.clock import Clock

__all__ = ["ImageManager", "ImageResult"]


@dataclass(frozen=True, slots=True)
class ImageResult:
    ref: str = ""  # the image id to create the container from ("" on failure)
    reason: str = ""  # a waiting reason on failure
    message: str = ""
    events: tuple[tuple[str, str, str], ...] = ()  # (type, reason, message)
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return bool(self.ref)


class ImageManager:
    def __init__(self, runtime: Runtime, *, backoff: Backoff, clock: Clock) -> None:
        self._rt = runtime
        self._backoff = backoff
        self._clock = clock
        self._last_failure: dict[str, float] = {}

    async def ensure(
        self, image: str, policy: str, *, backoff_key: str, sandbox_config: SandboxConfig | None = None
    ) -> ImageResult:
        try:
            normalize_image(image)
        except InvalidArgumentError as exc:
            return ImageResult(reason="InvalidImageName", message=f"Failed to apply default image tag {image!r}: {exc}",
                               events=(("Warning", "InspectFailed", str(exc)),))
        policy = policy or ("Always" if image.rpartition(":")[2] in ("latest", image) else "IfNotPresent")
        if policy != "Always":
            try:
                present = await self._rt.image_status(image)
            except CRIError as exc:
                return ImageResult(reason="ErrImageInspect", message=str(exc),
                                   events=(("Warning", "InspectFailed", f"Failed to inspect image {image!r}: {exc}"),),
                                   retry_after=self._backoff.initial)
            if present is not None:
                return ImageResult(ref=present.id, events=(
                    ("Normal", "Pulled", f'Container image "{image}" already present on machine'),))
            if policy == "Never":
                msg = f'Container image "{image}" is not present with pull policy of Never'
                return ImageResult(reason="ErrImageNeverPull", message=msg,
                                   events=(("Warning", "ErrImageNeverPull", msg),),
                                   retry_after=self._backoff.initial)
        key = f"{backoff_key}|{image}"
        last = self._last_failure.get(key)
        if last is not None and self._backoff.in_backoff_since(key, last):
            msg = f'Back-off pulling image "{image}"'
            return ImageResult(reason="ImagePullBackOff", message=msg, events=(("Normal", "BackOff", msg),),
                               retry_after=self._backoff.remaining(key, last))
        start = self._clock.monotonic()
        try:
            ref = await self._rt.pull_image(image, sandbox_config=sandbox_config)
        except (ImagePullError, CRIError) as exc:
            self._backoff.next(key)
            self._last_failure[key] = self._clock.time()
            msg = f'Failed to pull image "{image}": {exc}'
            return ImageResult(reason="ErrImagePull", message=msg, events=(
                ("Normal", "Pulling", f'Pulling image "{image}"'),
                ("Warning", "Failed", msg),
                ("Warning", "Failed", "Error: ErrImagePull"),
            ), retry_after=self._backoff.delay(key))
        self._backoff.reset(key)
        self._last_failure.pop(key, None)
        took = self._clock.monotonic() - start
        return ImageResult(ref=ref, events=(
            ("Normal", "Pulling", f'Pulling image "{image}"'),
            ("Normal", "Pulled", f'Successfully pulled image "{image}" in {took:.3f}s'),
        ))

    def forget(self, backoff_key: str) -> None:
        for key in [k for k in self._last_failure if k.startswith(backoff_key + "|")]:
            del self._last_failure[key]
        self._backoff.forget_prefix(backoff_key + "|")

"""Claiming dependents by selector and controllerRef: adopt matching orphans, release what no longer matches.

Kubernetes' ``ControllerRefManager`` rules, for a ReplicaSet's pods or a Deployment's
ReplicaSets:

- owned by us (controllerRef uid == owner uid) and matching the selector: ours;
- owned by us but not matching: released (our ownerReference removed), unless the owner is
  being deleted (then the garbage collector decides);
- an orphan (no controllerRef) that matches, is not being deleted, while the owner is not
  being deleted: adopted (our controller ownerReference added). Before the first adoption the
  owner is read fresh from the API, so a stale cache cannot adopt for an owner that is gone;
- owned by another controller: never touched.

Adoption and release are strategic merge patches of ``metadata.ownerReferences`` carrying
``metadata.uid``, so a recreated object of the same name is not patched by mistake.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from master.api import helpers as api_helpers
from master.api import labels, meta
from master.client import errors
from master.client.rest import ApiClient

__all__ = ["claim"]

T = TypeVar("T", bound=meta.Object)


async def claim(
    api: ApiClient,
    owner: meta.Object,
    selector: labels.Selector,
    candidates: Iterable[T],
    *,
    fresh_owner: Callable[[], Awaitable[meta.Object | None]],
) -> list[T]:
    """The objects ``owner`` controls after adopting and releasing (see the module docstring).

    ``fresh_owner`` reads the owner from the API (None when it is gone).
    """
    claimed: list[T] = []
    can_adopt: bool | None = None
    owner_uid = owner.metadata.uid
    for obj in candidates:
        ref = api_helpers.controller_ref(obj)
        matches = selector.matches(obj.metadata.labels)
        if ref is not None:
            if ref.uid != owner_uid:
                continue
            if matches:
                claimed.append(obj)
            elif not owner.metadata.deletion_timestamp:
                await _release(api, obj, owner_uid)
            continue
        if not matches or owner.metadata.deletion_timestamp or obj.metadata.deletion_timestamp:
            continue
        if can_adopt is None:
            fresh = await fresh_owner()
            can_adopt = (
                fresh is not None
                and fresh.metadata.uid == owner_uid
                and not fresh.metadata.deletion_timestamp
            )
        if not can_adopt:
            continue
        adopted = await _adopt(api, obj, owner)
        if adopted is not None:
            claimed.append(adopted)
    return claimed


async def _adopt(api: ApiClient, obj: T, owner: meta.Object) -> T | None:
    ref = api_helpers.new_controller_ref(owner)
    patch = {
        "metadata": {
            "ownerReferences": [
                {"apiVersion": ref.api_version, "kind": ref.kind, "name": ref.name, "uid": ref.uid,
                 "controller": True, "blockOwnerDeletion": True}
            ],
            "uid": obj.metadata.uid,
        }
    }
    try:
        return await api.patch(
            type(obj), obj.metadata.name, patch, namespace=obj.metadata.namespace, patch_type="strategic"
        )
    except (errors.NotFound, errors.Invalid):
        # Gone, or replaced by a new object of the same name (uid mismatch): not ours to adopt.
        return None


async def _release(api: ApiClient, obj: meta.Object, owner_uid: str) -> None:
    patch = {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": owner_uid}], "uid": obj.metadata.uid}}
    try:
        await api.patch(
            type(obj), obj.metadata.name, patch, namespace=obj.metadata.namespace, patch_type="strategic"
        )
    except (errors.NotFound, errors.Invalid):
        pass

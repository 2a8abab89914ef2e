"""The unit-test seam of the controllers: an in-memory API (``FakeApi``) that records every write,
informer caches filled by hand, a recording event sink and a fake clock.

Controllers are built for real (``ControllerContext`` over a ``SharedInformerFactory`` whose
informers are never started); a test loads objects into the caches, calls ``sync(key)``
directly and looks at ``api.actions`` and ``api.objects``. ``FakeApi`` keeps Kubernetes'
write semantics where controllers rely on them: generateName, uid, resourceVersion (409 on a
stale one), generation bumps on spec changes, status subresource writes, merge/strategic/JSON
patches (through ``master.api.patch``), preconditions on delete, finalizers (a delete of an
object with finalizers only sets deletionTimestamp), and namespace finalize.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from master.api import codec, core, meta, registry, timefmt
from master.api import patch as patching
from master.client import errors
from master.client.informer import SharedInformerFactory
from master.client.rest import WatchEvent
from master.controllers.context import ControllerContext
from master.controllers.metrics import ControllerMetrics
from master.controllers.settings import ControllerManagerSettings
from master.util.clock import FakeClock

T = TypeVar("T", bound=meta.Object)

START = 1_700_000_000.0


@dataclass
class Action:
    verb: str
    kind: str
    key: str
    detail: Any = None

    def __str__(self) -> str:
        return f"{self.verb} {self.kind} {self.key}"


@dataclass
class Event:
    obj: str
    type: str
    reason: str
    message: str


class Recorder:
    """Stands in for ``EventRecorder``: keeps the events."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def event(self, obj: meta.Object, type: str, reason: str, message: str) -> None:
        self.events.append(Event(f"{obj.kind}/{obj.metadata.name}", type, reason, message))

    def reasons(self) -> list[str]:
        return [e.reason for e in self.events]

    async def aclose(self) -> None:
        pass


def _key(ns: str, name: str) -> str:
    return f"{ns}/{name}" if ns else name


@dataclass
class FakeApi:
    clock: FakeClock
    objects: dict[tuple[str, str, str], meta.Object] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    # (verb, kind) -> error raised by the next such call (verb: create/update/status/patch/delete/get/list)
    failures: dict[tuple[str, str], list[Exception]] = field(default_factory=dict)
    resources: registry.Registry = field(default_factory=lambda: registry.DEFAULT)
    _rv: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # ---- test helpers -------------------------------------------------------------------------

    def seed(self, *objs: meta.Object) -> list[Any]:
        """Store objects (filling uid, resourceVersion, creationTimestamp) without an action."""
        return [self._store(self._fill(o)) for o in objs]

    def fail(self, verb: str, kind: str, exc: Exception, times: int = 1) -> None:
        self.failures.setdefault((verb, kind), []).extend([exc] * times)

    def writes(self) -> list[str]:
        return [str(a) for a in self.actions if a.verb not in ("get", "list")]

    def verbs(self, kind: str | None = None) -> list[str]:
        return [a.verb for a in self.actions if a.verb not in ("get", "list") and (kind is None or a.kind == kind)]

    def all(self, cls: type[T], namespace: str | None = None) -> list[T]:
        kind = cls.KIND  # type: ignore[attr-defined]
        return [o for (k, ns, _), o in sorted(self.objects.items()) if k == kind and (namespace is None or ns == namespace)]  # type: ignore[misc]

    def get_now(self, cls: type[T], name: str, namespace: str = "") -> T | None:
        return self.objects.get((cls.KIND, namespace, name))  # type: ignore[attr-defined, return-value]

    # ---- ApiClient surface --------------------------------------------------------------------

    def resource(self, cls: type[Any]) -> registry.Resource:
        res = self.resources.by_kind(getattr(cls, "API_VERSION", ""), getattr(cls, "KIND", ""))
        assert res is not None
        return res

    def _check_fail(self, verb: str, kind: str) -> None:
        queue = self.failures.get((verb, kind))
        if queue:
            raise queue.pop(0)

    def _fill(self, obj: Any) -> Any:
        m = obj.metadata
        name = m.name or (m.generate_name + f"x{next(self._names):04d}" if m.generate_name else "")
        res = self.resources.by_kind(obj.api_version, obj.kind)
        namespaced = res.namespaced if res is not None else True
        new_meta = msgspec.structs.replace(
            m, name=name, generate_name="",
            namespace=m.namespace if namespaced else "",
            uid=m.uid or f"uid-{obj.kind.lower()}-{name}",
            resource_version=str(next(self._rv)),
            creation_timestamp=m.creation_timestamp or timefmt.format_time(self.clock.time()),
            generation=m.generation or (1 if hasattr(obj, "spec") and obj.kind in ("Deployment", "ReplicaSet", "DaemonSet") else 0),
        )
        return msgspec.structs.replace(obj, metadata=new_meta)

    def _store(self, obj: Any) -> Any:
        self.objects[(obj.kind, obj.metadata.namespace, obj.metadata.name)] = obj
        return obj

    def _find(self, cls: type[Any], name: str, namespace: str | None) -> Any:
        res = self.resource(cls)
        ns = (namespace or "default") if res.namespaced else ""
        obj = self.objects.get((cls.KIND, ns, name))
        if obj is None:
            raise errors.NotFound(f'{res.plural} "{name}" not found', code=404)
        return obj

    async def get(self, cls: type[T], name: str, *, namespace: str | None = None) -> T:
        self.actions.append(Action("get", cls.KIND, _key(namespace or "", name)))  # type: ignore[attr-defined]
        self._check_fail("get", cls.KIND)  # type: ignore[attr-defined]
        return self._find(cls, name, namespace)  # type: ignore[no-any-return]

    async def list(self, cls: type[T], *, namespace: str | None = None, label_selector: str = "",
                   field_selector: str = "", **_: Any) -> meta.ObjectList[T]:
        from master.api import labels

        self.actions.append(Action("list", cls.KIND, namespace or ""))  # type: ignore[attr-defined]
        self._check_fail("list", cls.KIND)  # type: ignore[attr-defined]
        sel = labels.parse(label_selector)
        items = [o for o in self.all(cls, namespace) if sel.matches(o.metadata.labels)]
        return meta.ObjectList(items=items)

    async def create(self, obj: T, *, namespace: str | None = None, **_: Any) -> T:
        self._check_fail("create", obj.kind)
        filled = self._fill(obj)
        k = (filled.kind, filled.metadata.namespace, filled.metadata.name)
        if k in self.objects:
            raise errors.AlreadyExists(f'"{filled.metadata.name}" already exists', code=409, reason="AlreadyExists")
        self.actions.append(Action("create", obj.kind, _key(filled.metadata.namespace, filled.metadata.name), filled))
        return self._store(filled)  # type: ignore[no-any-return]

    def _replace(self, verb: str, obj: Any, *, status_only: bool) -> Any:
        cur = self._find(type(obj), obj.metadata.name, obj.metadata.namespace)
        if obj.metadata.resource_version and obj.metadata.resource_version != cur.metadata.resource_version:
            raise errors.Conflict("the object has been modified; please apply your changes to the latest version",
                                  code=409, reason="Conflict")
        if status_only:
            new = msgspec.structs.replace(cur, status=obj.status)
        else:
            new = obj
            if hasattr(cur, "status"):
                new = msgspec.structs.replace(new, status=cur.status)
        gen = cur.metadata.generation
        if not status_only and hasattr(cur, "spec") and getattr(new, "spec", None) != cur.spec and gen:
            gen += 1
        new_meta = msgspec.structs.replace(
            new.metadata if not status_only else cur.metadata,
            resource_version=str(next(self._rv)), generation=gen, uid=cur.metadata.uid,
            creation_timestamp=cur.metadata.creation_timestamp,
            deletion_timestamp=cur.metadata.deletion_timestamp,
        )
        new = msgspec.structs.replace(new, metadata=new_meta)
        self.actions.append(Action(verb, cur.kind, _key(cur.metadata.namespace, cur.metadata.name), new))
        return self._finish(self._store(new))

    def _finish(self, obj: Any) -> Any:
        m = obj.metadata
        if m.deletion_timestamp and not m.finalizers and not (obj.kind == "Namespace" and obj.spec.finalizers):
            self.objects.pop((obj.kind, m.namespace, m.name), None)
        return obj

    async def update(self, obj: T, **_: Any) -> T:
        self._check_fail("update", obj.kind)
        return self._replace("update", obj, status_only=False)  # type: ignore[no-any-return]

    async def update_status(self, obj: T, **_: Any) -> T:
        self._check_fail("status", obj.kind)
        return self._replace("status", obj, status_only=True)  # type: ignore[no-any-return]

    async def patch(self, cls: type[T], name: str, body: Any, *, namespace: str | None = None,
                    patch_type: str = "merge", subresource: str = "", **_: Any) -> T:
        self._check_fail("patch", cls.KIND)  # type: ignore[attr-defined]
        cur = self._find(cls, name, namespace)
        doc = codec.to_builtins(cur)
        if patch_type == "merge":
            patched = patching.merge_patch(doc, body)
        elif patch_type == "strategic":
            patched = patching.strategic_merge_patch(doc, body, cls)
        else:
            patched = patching.apply_json_patch(doc, body)
        new = codec.convert(patched, cls)
        if new.metadata.uid != cur.metadata.uid:
            raise errors.Invalid("metadata.uid: field is immutable", code=422, reason="Invalid")
        want_rv = (body.get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None
        if want_rv and want_rv != cur.metadata.resource_version:
            raise errors.Conflict("the object has been modified", code=409, reason="Conflict")
        if subresource == "status":
            new = msgspec.structs.replace(cur, status=new.status)  # type: ignore[attr-defined]
        new = msgspec.structs.replace(new, metadata=msgspec.structs.replace(
            new.metadata, resource_version=str(next(self._rv))))
        self.actions.append(Action("patch", cur.kind, _key(cur.metadata.namespace, name), body))
        return self._finish(self._store(new))  # type: ignore[no-any-return]

    async def delete(self, cls: type[T], name: str, *, namespace: str | None = None,
                     grace_period_seconds: int | None = None, propagation_policy: str | None = None,
                     preconditions: meta.Preconditions | None = None, **_: Any) -> T | None:
        self._check_fail("delete", cls.KIND)  # type: ignore[attr-defined]
        cur = self._find(cls, name, namespace)
        if preconditions is not None and preconditions.uid and preconditions.uid != cur.metadata.uid:
            raise errors.Conflict("Precondition failed: UID", code=409, reason="Conflict")
        m = cur.metadata
        self.actions.append(Action("delete", cur.kind, _key(m.namespace, name),
                                   {"grace": grace_period_seconds, "policy": propagation_policy}))
        finalizers = list(m.finalizers)
        if propagation_policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if propagation_policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        if finalizers or (cur.kind == "Namespace" and cur.spec.finalizers):
            new = msgspec.structs.replace(cur, metadata=msgspec.structs.replace(
                m, finalizers=finalizers, deletion_timestamp=m.deletion_timestamp or timefmt.format_time(self.clock.time()),
                resource_version=str(next(self._rv))))
            return self._store(new)  # type: ignore[no-any-return]
        self.objects.pop((cur.kind, m.namespace, m.name), None)
        return cur  # type: ignore[no-any-return]

    async def delete_collection(self, cls: type[T], *, namespace: str | None = None, **_: Any) -> None:
        self.actions.append(Action("deletecollection", cls.KIND, namespace or ""))  # type: ignore[attr-defined]
        for obj in self.all(cls, namespace):
            await self.delete(cls, obj.metadata.name, namespace=obj.metadata.namespace or None)

    async def request(self, method: str, path: str, *, body: bytes | None = None, **_: Any) -> bytes:
        assert method == "PUT" and path.endswith("/finalize") and body is not None
        ns = codec.decode(body, core.Namespace)
        cur = self._find(core.Namespace, ns.metadata.name, None)
        new = msgspec.structs.replace(cur, spec=ns.spec)
        self.actions.append(Action("finalize", "Namespace", ns.metadata.name, ns.spec.finalizers))
        self._finish(self._store(new))
        return codec.encode(new)


@dataclass
class Harness:
    api: FakeApi
    clock: FakeClock
    ctx: ControllerContext
    recorder: Recorder

    def load(self, *objs: meta.Object) -> list[Any]:
        """Seed the API and put the (filled) objects in every matching informer cache, with handlers."""
        out = []
        for obj in self.api.seed(*objs):
            self.observe(obj)
            out.append(obj)
        return out

    def observe(self, obj: meta.Object, event: str = "ADDED") -> None:
        """Deliver ``obj`` (as the API has it now) to the informers of its type, as a watch would."""
        for inf in self.ctx.informers.informers:
            if inf.cls is type(obj) and inf.namespace in (None, obj.metadata.namespace):
                inf._apply(WatchEvent(event, obj))

    def snapshot(self) -> list[tuple[meta.Object, bytes]]:
        """Every cached object with its encoding now (see ``assert_untouched``)."""
        return [(o, codec.encode(o)) for inf in self.ctx.informers.informers for o in inf.cache.list()]

    @staticmethod
    def assert_untouched(snap: list[tuple[meta.Object, bytes]]) -> None:
        """STYLE rule 6: controllers never change an object that came out of a cache."""
        for obj, before in snap:
            assert codec.encode(obj) == before, f"{obj.kind} {obj.metadata.name} was mutated in the cache"

    def sync_caches(self) -> None:
        """Make every informer cache equal the API's objects (handlers fire for the differences)."""
        for inf in self.ctx.informers.informers:
            items = [o for o in self.api.all(inf.cls) if inf.namespace in (None, o.metadata.namespace)]
            inf._replace(items)


def harness(**settings: Any) -> Harness:
    clock = FakeClock(START)
    api = FakeApi(clock)
    recorder = Recorder()
    factory = SharedInformerFactory(api, clock=clock)  # type: ignore[arg-type]
    ctx = ControllerContext(
        api=api,  # type: ignore[arg-type]
        informers=factory,
        settings=dataclasses.replace(ControllerManagerSettings(), **settings),
        clock=clock,
        recorder=recorder,  # type: ignore[arg-type]
        metrics=ControllerMetrics(),
    )
    return Harness(api, clock, ctx, recorder)


def pod(name: str, *, namespace: str = "default", labels: dict[str, str] | None = None, node: str = "",
        phase: str = "", ready: bool | None = None, owner: meta.Object | None = None, ip: str = "",
        **spec: Any) -> core.Pod:
    from master.api import helpers

    conditions = []
    if ready is not None:
        conditions.append(core.PodCondition(type="Ready", status="True" if ready else "False",
                                            last_transition_time=timefmt.format_time(START - 3600)))
    refs = [helpers.new_controller_ref(owner)] if owner is not None else []
    return core.Pod(
        metadata=meta.ObjectMeta(name=name, namespace=namespace, labels=labels or {}, owner_references=refs),
        spec=core.PodSpec(containers=[core.Container(name="c", image="busybox", **spec.pop("container", {}))],
                          node_name=node, **spec),
        status=core.PodStatus(phase=phase, conditions=conditions, pod_ip=ip),
    )


def node(name: str, *, ready: str | None = "True", labels: dict[str, str] | None = None,
         taints: list[core.Taint] | None = None, **spec: Any) -> core.Node:
    conds = []
    if ready is not None:
        stamp = timefmt.format_time(START)
        conds.append(core.NodeCondition(type="Ready", status=ready, last_heartbeat_time=stamp,
                                        last_transition_time=stamp))
    return core.Node(
        metadata=meta.ObjectMeta(name=name, labels=labels or {}),
        spec=core.NodeSpec(taints=taints or [], **spec),
        status=core.NodeStatus(conditions=conds),
    )

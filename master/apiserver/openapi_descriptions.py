"""The words of the OpenAPI documents: what each kind and field means.

The types in ``master.api`` say little in prose, so descriptions come from three places, first
match wins:

1. ``FIELDS`` below, for the fields every object shares (apiVersion, kind, metadata, spec,
   status, items) and for ObjectMeta, which ``kubectl explain`` shows most;
2. the trailing comment on a field's line in its type's source (``type: str = ""  # Normal or
   Warning`` describes ``type`` as "Normal or Warning");
3. ``KINDS`` below for top-level kinds, else a Struct's own docstring.

Comments are read from the source files (a line scan) when a document is built (once, lazily)
and not kept afterwards.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

__all__ = ["FIELDS", "KINDS", "CommentIndex", "kind_description"]

_METADATA = ("Standard object metadata: name, namespace, labels and annotations, and what the server "
             "sets (uid, resourceVersion, generation, timestamps).")
_SPEC = "The desired state of the object, as its user (or a controller) declares it."
_STATUS = ("The observed state of the object, as the system reports it. Read-only for users; "
           "written through the status subresource.")

# (Struct name or "*" for any Struct, JSON field name) -> description.
FIELDS: dict[tuple[str, str], str] = {
    ("*", "apiVersion"): ('The version of the schema this object follows: "v1" for the core group, '
                          '"GROUP/VERSION" otherwise (e.g. "apps/v1"). The server rejects versions it '
                          "does not serve."),
    ("*", "kind"): ("The kind of object this is, in CamelCase (Pod, Deployment ...). Clients send it; "
                    "the server always fills it in."),
    ("*", "metadata"): _METADATA,
    ("*", "spec"): _SPEC,
    ("*", "status"): _STATUS,
    ("List", "metadata"): "Standard list metadata: the list's resourceVersion and a continue token when paged.",
    ("List", "items"): "The objects in the list.",
    ("PodTemplateSpec", "metadata"): "Metadata of the pods made from this template (labels, annotations).",
    ("PodTemplateSpec", "spec"): "The spec of the pods made from this template.",
    ("ObjectMeta", "name"): ("The object's name, unique among objects of its kind in its namespace (or in the "
                             "cluster, for cluster-scoped kinds). Cannot be changed."),
    ("ObjectMeta", "generateName"): ("A prefix from which the server makes a unique name when name is empty: "
                                     "the prefix and a random suffix."),
    ("ObjectMeta", "namespace"): ('The namespace the object lives in; empty for cluster-scoped kinds. '
                                  '"default" when a namespaced object is created without one.'),
    ("ObjectMeta", "uid"): "Unique across the cluster's lifetime; set by the server on create. Read-only.",
    ("ObjectMeta", "resourceVersion"): ("An opaque version of the object, changed on every write; send it "
                                        "back on update for optimistic concurrency, or to list and watch "
                                        "from a point in time. Read-only."),
    ("ObjectMeta", "generation"): "Increases when the spec changes; set by the server. Read-only.",
    ("ObjectMeta", "creationTimestamp"): "When the object was created (RFC 3339, UTC). Read-only.",
    ("ObjectMeta", "deletionTimestamp"): ("When the object is to be gone: set by the server on a graceful "
                                          "delete or while finalizers remain. Read-only."),
    ("ObjectMeta", "deletionGracePeriodSeconds"): "The grace period of a pending graceful delete. Read-only.",
    ("ObjectMeta", "labels"): ("Key/value pairs that organize and select objects (label selectors of "
                               "Services, Deployments, kubectl -l)."),
    ("ObjectMeta", "annotations"): "Key/value pairs for tools and people; never used to select objects.",
    ("ObjectMeta", "ownerReferences"): ("The objects this one depends on; when all its owners are gone the "
                                        "garbage collector deletes it. At most one is the managing controller."),
    ("ObjectMeta", "finalizers"): ("Names of cleanups that must finish before the object is removed; "
                                   "a delete only sets deletionTimestamp while any remain."),
    ("Container", "name"): "The container's name (a DNS label), unique within the pod.",
    ("Container", "image"): "The container image to run, e.g. busybox:1.36.",
    ("Container", "command"): "The entrypoint; the image's ENTRYPOINT when empty. Not run in a shell.",
    ("Container", "args"): "Arguments to the entrypoint; the image's CMD when empty.",
    ("Container", "ports"): "Ports the container listens on (informational; any port is reachable).",
    ("Container", "env"): "Environment variables to set in the container.",
    ("Container", "resources"): "CPU and memory the container requests (for scheduling) and may use at most.",
    ("PodSpec", "containers"): "The containers of the pod. At least one.",
    ("DaemonEndpoint", "Port"): "The port the node's agent listens on (capitalized, as in Kubernetes).",
    ("PodSpec", "nodeName"): "The node the pod runs on; set by the scheduler through pods/binding.",
}

KINDS: dict[str, str] = {
    "Pod": ("A group of containers that run together on one node, sharing its network namespace and "
            "volumes. The scheduler picks the node; that node's agent runs the containers."),
    "Binding": "Binds a pod to a node: what the scheduler posts to pods/binding.",
    "Service": ("A stable virtual IP and DNS name in front of the pods its selector matches; the node "
                "proxies forward its traffic to them."),
    "Endpoints": "The addresses and ports of the pods behind a Service (the legacy form of EndpointSlice).",
    "EndpointSlice": "A slice of the endpoints (pod addresses and ports) behind a Service.",
    "ConfigMap": "Non-secret configuration data as key/value pairs, for pods to read as files or variables.",
    "Secret": "Sensitive data (passwords, tokens, keys) as key/value pairs; data values are base64.",
    "ServiceAccount": "An identity for processes that run in pods, with its API credentials.",
    "Event": "A report of something that happened to an object (scheduling, pulling, failures ...).",
    "Namespace": "A scope for names; most objects live in one.",
    "Node": "A machine (here: a Raspberry Pi) that runs pods, registered by its agent.",
    "Deployment": "Declarative updates for pods: keeps replicas of a pod template running through ReplicaSets, "
                  "rolling from one template to the next.",
    "ReplicaSet": "Keeps a number of pods made from a template running.",
    "DaemonSet": "Runs one pod made from a template on every (matching) node.",
    "Lease": "A lease held by one holder at a time: node heartbeats and leader election.",
    "Role": "A set of permissions (rules) within a namespace.",
    "ClusterRole": "A set of permissions (rules) across the cluster, or to be bound in namespaces.",
    "RoleBinding": "Grants a Role's or ClusterRole's rules to subjects within the binding's namespace.",
    "ClusterRoleBinding": "Grants a ClusterRole's rules to subjects across the cluster.",
    "CertificateSigningRequest": "A request for a certificate signed by the cluster CA; approved, then signed.",
    "TokenRequest": "Asks for a token for a ServiceAccount (serviceaccounts/token).",
    "TokenReview": "Asks the server who a bearer token authenticates as.",
    "SelfSubjectReview": "Asks the server who the requester is.",
    "SubjectAccessReview": "Asks whether a user or group may perform an action.",
    "SelfSubjectAccessReview": "Asks whether the requester may perform an action (kubectl auth can-i).",
    "LocalSubjectAccessReview": "Asks whether a user or group may perform an action in one namespace.",
    "SelfSubjectRulesReview": "Lists the actions the requester may perform in a namespace.",
    "Scale": "The replica count of a scalable object (the scale subresource).",
    "Eviction": "Evicts a pod, honouring its grace period (pods/eviction).",
    "Status": "The result of an operation that returns no object, or of a failed one.",
    "DeleteOptions": "Options for a delete: grace period, preconditions and propagation policy.",
    "WatchEvent": "One event of a watch stream: its type and the object.",
}


def kind_description(name: str, cls: Any = None) -> str:
    """The description of a kind (or any Struct): ``KINDS``, else the Struct's docstring."""
    text = KINDS.get(name)
    if text:
        return text
    # The class's own docstring only: a base class's (Object's) says nothing about this kind.
    doc = vars(cls).get("__doc__") if cls is not None else None
    if not isinstance(doc, str) or not doc.strip():
        return ""
    return " ".join(inspect.cleandoc(doc).split("\n\n", 1)[0].split())


class CommentIndex:
    """Trailing comments of Struct fields, read from source on first use per module."""

    def __init__(self) -> None:
        self._modules: dict[str, dict[tuple[str, str], str]] = {}

    def field(self, cls: type, attr: str) -> str:
        """The comment on ``attr``'s line in ``cls`` or the base class that declares it."""
        for klass in cls.__mro__:
            if attr not in getattr(klass, "__annotations__", {}):
                continue
            return self._module(klass).get((klass.__qualname__, attr), "")
        return ""

    def _module(self, cls: type) -> dict[tuple[str, str], str]:
        name = cls.__module__
        found = self._modules.get(name)
        if found is None:
            found = self._modules[name] = _read_comments(cls)
        return found


_TOOL_COMMENTS = ("noqa", "type:", "pragma", "fmt:")
_CLASS = re.compile(r"class (\w+)\b")
# A field of a class body with an inline comment: "    phase: str = ""  # Pending, Running, ..."
_FIELD = re.compile(r"    (\w+): [^#]*?\s{2}# (.+)$")


def _read_comments(cls: type) -> dict[tuple[str, str], str]:
    # A line scan, not a parse: the type modules keep to one field per line, and this is cheap in
    # time and memory on a Pi.
    try:
        path = inspect.getsourcefile(cls)
        if path is None:
            return {}
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, TypeError, ValueError):
        return {}
    out: dict[tuple[str, str], str] = {}
    current = ""
    for line in lines:
        found = _CLASS.match(line)
        if found:
            current = found.group(1)
            continue
        field = _FIELD.match(line)
        if current and field:
            text = field.group(2).strip()
            if text and not text.startswith(_TOOL_COMMENTS):
                out[(current, field.group(1))] = text[0].upper() + text[1:]
    return out

"""Request bodies in Kubernetes' protobuf encoding (``application/vnd.kubernetes.protobuf``).

kubectl's typed clients (``kubectl create namespace|deployment|configmap|secret|serviceaccount|
service``, ``kubectl drain``'s evictions) send protobuf and do not fall back to JSON, so the server
must read it. Responses stay JSON, which those clients accept.

The envelope is the 4 magic bytes ``k8s\\0`` and a ``runtime.Unknown`` message::

    Unknown { TypeMeta typeMeta = 1 {apiVersion = 1, kind = 2}; bytes raw = 2; ... }

``raw`` is the object in the field numbers of Kubernetes' generated.proto files. The schemas
below name the messages and fields the generators fill in; fields not listed are dropped (the
same pruning JSON bodies get). Go's encoder writes every non-pointer field, zero or not, so a
zero value ("" / 0 / false / empty message) means "unset" and is dropped, except for the few
pointer fields where zero is meaningful (``replicas: 0``).
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

from master.apiserver import errors

__all__ = ["MAGIC", "decode"]

MAGIC = b"k8s\x00"

# Field kinds.
STR, INT, BOOL, BYTES, MSG, MAP_STR, MAP_BYTES, MAP_QTY, TIME, INTSTR, QTY = (
    "str", "int", "bool", "bytes", "msg", "map_str", "map_bytes", "map_qty", "time", "intstr", "qty")
# []byte fields, base64 in JSON (a CSR's request and certificate).
B64 = "b64"

# message -> field number -> (json name, kind, repeated, submessage)
Field = tuple[str, str, bool, str]


def _f(name: str, kind: str, sub: str = "", *, rep: bool = False) -> Field:
    return (name, kind, rep, sub)


SCHEMAS: dict[str, dict[int, Field]] = {
    "Unknown": {1: _f("typeMeta", MSG, "TypeMeta"), 2: _f("raw", BYTES), 3: _f("contentEncoding", STR),
                4: _f("contentType", STR)},
    "TypeMeta": {1: _f("apiVersion", STR), 2: _f("kind", STR)},
    "ObjectMeta": {1: _f("name", STR), 2: _f("generateName", STR), 3: _f("namespace", STR), 5: _f("uid", STR),
                   6: _f("resourceVersion", STR), 11: _f("labels", MAP_STR), 12: _f("annotations", MAP_STR),
                   13: _f("ownerReferences", MSG, "OwnerReference", rep=True),
                   14: _f("finalizers", STR, rep=True)},
    "OwnerReference": {1: _f("kind", STR), 3: _f("name", STR), 4: _f("uid", STR), 5: _f("apiVersion", STR),
                       6: _f("controller", BOOL), 7: _f("blockOwnerDeletion", BOOL)},
    "LabelSelector": {1: _f("matchLabels", MAP_STR),
                      2: _f("matchExpressions", MSG, "LabelSelectorRequirement", rep=True)},
    "LabelSelectorRequirement": {1: _f("key", STR), 2: _f("operator", STR), 3: _f("values", STR, rep=True)},
    # core/v1
    "Namespace": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("spec", MSG, "NamespaceSpec")},
    "NamespaceSpec": {1: _f("finalizers", STR, rep=True)},
    "ConfigMap": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("data", MAP_STR), 3: _f("binaryData", MAP_BYTES),
                  4: _f("immutable", BOOL)},
    "Secret": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("data", MAP_BYTES), 3: _f("type", STR),
               4: _f("stringData", MAP_STR), 5: _f("immutable", BOOL)},
    "ServiceAccount": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("secrets", MSG, "ObjectReference", rep=True),
                       3: _f("imagePullSecrets", MSG, "LocalObjectReference", rep=True),
                       4: _f("automountServiceAccountToken", BOOL)},
    "ObjectReference": {1: _f("kind", STR), 2: _f("namespace", STR), 3: _f("name", STR), 4: _f("uid", STR),
                        5: _f("apiVersion", STR)},
    "LocalObjectReference": {1: _f("name", STR)},
    "Service": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("spec", MSG, "ServiceSpec")},
    "ServiceSpec": {1: _f("ports", MSG, "ServicePort", rep=True), 2: _f("selector", MAP_STR),
                    3: _f("clusterIP", STR), 4: _f("type", STR), 5: _f("externalIPs", STR, rep=True),
                    7: _f("sessionAffinity", STR), 10: _f("externalName", STR),
                    11: _f("externalTrafficPolicy", STR), 18: _f("clusterIPs", STR, rep=True)},
    "ServicePort": {1: _f("name", STR), 2: _f("protocol", STR), 3: _f("port", INT), 4: _f("targetPort", INTSTR),
                    5: _f("nodePort", INT)},
    "Pod": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("spec", MSG, "PodSpec")},
    "PodTemplateSpec": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("spec", MSG, "PodSpec")},
    "PodSpec": {2: _f("containers", MSG, "Container", rep=True), 3: _f("restartPolicy", STR),
                4: _f("terminationGracePeriodSeconds", INT), 6: _f("dnsPolicy", STR),
                7: _f("nodeSelector", MAP_STR), 8: _f("serviceAccountName", STR), 10: _f("nodeName", STR),
                11: _f("hostNetwork", BOOL), 16: _f("hostname", STR), 17: _f("subdomain", STR),
                19: _f("schedulerName", STR), 20: _f("initContainers", MSG, "Container", rep=True),
                22: _f("tolerations", MSG, "Toleration", rep=True)},
    "Container": {1: _f("name", STR), 2: _f("image", STR), 3: _f("command", STR, rep=True),
                  4: _f("args", STR, rep=True), 5: _f("workingDir", STR),
                  6: _f("ports", MSG, "ContainerPort", rep=True), 7: _f("env", MSG, "EnvVar", rep=True),
                  8: _f("resources", MSG, "ResourceRequirements"), 14: _f("imagePullPolicy", STR)},
    "ContainerPort": {1: _f("name", STR), 2: _f("hostPort", INT), 3: _f("containerPort", INT),
                      4: _f("protocol", STR), 5: _f("hostIP", STR)},
    "EnvVar": {1: _f("name", STR), 2: _f("value", STR)},
    "ResourceRequirements": {1: _f("limits", MAP_QTY), 2: _f("requests", MAP_QTY)},
    "Toleration": {1: _f("key", STR), 2: _f("operator", STR), 3: _f("value", STR), 4: _f("effect", STR),
                   5: _f("tolerationSeconds", INT)},
    # apps/v1
    "Deployment": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("spec", MSG, "DeploymentSpec")},
    "DeploymentSpec": {1: _f("replicas", INT), 2: _f("selector", MSG, "LabelSelector"),
                       3: _f("template", MSG, "PodTemplateSpec"), 4: _f("strategy", MSG, "DeploymentStrategy"),
                       5: _f("minReadySeconds", INT), 6: _f("revisionHistoryLimit", INT), 7: _f("paused", BOOL),
                       9: _f("progressDeadlineSeconds", INT)},
    "DeploymentStrategy": {1: _f("type", STR)},
    # policy/v1
    "Eviction": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("deleteOptions", MSG, "DeleteOptions")},
    "DeleteOptions": {1: _f("gracePeriodSeconds", INT), 2: _f("preconditions", MSG, "Preconditions"),
                      3: _f("orphanDependents", BOOL), 4: _f("propagationPolicy", STR),
                      5: _f("dryRun", STR, rep=True)},
    "Preconditions": {1: _f("uid", STR), 2: _f("resourceVersion", STR)},
    # rbac.authorization.k8s.io/v1 (kubectl create role|clusterrole|rolebinding|clusterrolebinding)
    "Role": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("rules", MSG, "PolicyRule", rep=True)},
    "ClusterRole": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("rules", MSG, "PolicyRule", rep=True),
                    3: _f("aggregationRule", MSG, "AggregationRule")},
    "PolicyRule": {1: _f("verbs", STR, rep=True), 2: _f("apiGroups", STR, rep=True),
                   3: _f("resources", STR, rep=True), 4: _f("resourceNames", STR, rep=True),
                   5: _f("nonResourceURLs", STR, rep=True)},
    "AggregationRule": {1: _f("clusterRoleSelectors", MSG, "LabelSelector", rep=True)},
    "RoleBinding": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("subjects", MSG, "Subject", rep=True),
                    3: _f("roleRef", MSG, "RoleRef")},
    "ClusterRoleBinding": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("subjects", MSG, "Subject", rep=True),
                           3: _f("roleRef", MSG, "RoleRef")},
    "Subject": {1: _f("kind", STR), 2: _f("apiGroup", STR), 3: _f("name", STR), 4: _f("namespace", STR)},
    "RoleRef": {1: _f("apiGroup", STR), 2: _f("kind", STR), 3: _f("name", STR)},
    # authorization.k8s.io/v1 (kubectl auth can-i), authentication.k8s.io/v1 (kubectl create token,
    # kubectl auth whoami), certificates.k8s.io/v1 (kubectl certificate approve|deny)
    "SelfSubjectAccessReview": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("spec", MSG, "SelfSubjectAccessReviewSpec")},
    "SelfSubjectAccessReviewSpec": {1: _f("resourceAttributes", MSG, "ResourceAttributes"),
                                    2: _f("nonResourceAttributes", MSG, "NonResourceAttributes")},
    "SubjectAccessReview": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("spec", MSG, "SubjectAccessReviewSpec")},
    "LocalSubjectAccessReview": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("spec", MSG, "SubjectAccessReviewSpec")},
    "SubjectAccessReviewSpec": {1: _f("resourceAttributes", MSG, "ResourceAttributes"),
                                2: _f("nonResourceAttributes", MSG, "NonResourceAttributes"), 3: _f("user", STR),
                                4: _f("groups", STR, rep=True), 6: _f("uid", STR)},
    "ResourceAttributes": {1: _f("namespace", STR), 2: _f("verb", STR), 3: _f("group", STR), 4: _f("version", STR),
                           5: _f("resource", STR), 6: _f("subresource", STR), 7: _f("name", STR)},
    "NonResourceAttributes": {1: _f("path", STR), 2: _f("verb", STR)},
    "SelfSubjectRulesReview": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("spec", MSG, "SelfSubjectRulesReviewSpec")},
    "SelfSubjectRulesReviewSpec": {1: _f("namespace", STR)},
    "TokenRequest": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("spec", MSG, "TokenRequestSpec")},
    "TokenRequestSpec": {1: _f("audiences", STR, rep=True), 3: _f("boundObjectRef", MSG, "BoundObjectReference"),
                         4: _f("expirationSeconds", INT)},
    "BoundObjectReference": {1: _f("kind", STR), 2: _f("apiVersion", STR), 3: _f("name", STR), 4: _f("uid", STR)},
    "TokenReview": {1: _f("metadata", MSG, "ObjectMeta"), 2: _f("spec", MSG, "TokenReviewSpec")},
    "TokenReviewSpec": {1: _f("token", STR), 2: _f("audiences", STR, rep=True)},
    "SelfSubjectReview": {1: _f("metadata", MSG, "ObjectMeta")},
    "CertificateSigningRequest": {1: _f("metadata", MSG, "ObjectMeta"),
                                  2: _f("spec", MSG, "CertificateSigningRequestSpec"),
                                  3: _f("status", MSG, "CertificateSigningRequestStatus")},
    "CertificateSigningRequestSpec": {1: _f("request", B64), 7: _f("signerName", STR),
                                      8: _f("expirationSeconds", INT), 5: _f("usages", STR, rep=True),
                                      2: _f("username", STR), 3: _f("uid", STR), 4: _f("groups", STR, rep=True)},
    "CertificateSigningRequestStatus": {1: _f("conditions", MSG, "CertificateSigningRequestCondition", rep=True),
                                        2: _f("certificate", B64)},
    "CertificateSigningRequestCondition": {1: _f("type", STR), 6: _f("status", STR), 2: _f("reason", STR),
                                           3: _f("message", STR), 4: _f("lastUpdateTime", TIME),
                                           5: _f("lastTransitionTime", TIME)},
}

# Pointer fields in Go: written only when set, so a zero value here was meant.
KEEP_ZERO = frozenset({"replicas", "terminationGracePeriodSeconds", "tolerationSeconds", "gracePeriodSeconds",
                       "revisionHistoryLimit", "progressDeadlineSeconds", "automountServiceAccountToken",
                       "immutable", "orphanDependents"})


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def varint(self) -> int:
        shift = result = 0
        while True:
            if self.pos >= len(self.data) or shift > 63:
                raise ValueError("truncated varint")
            b = self.data[self.pos]
            self.pos += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def fields(self) -> list[tuple[int, int, Any]]:
        out: list[tuple[int, int, Any]] = []
        while self.pos < len(self.data):
            tag = self.varint()
            number, wire = tag >> 3, tag & 7
            if wire == 0:
                out.append((number, wire, self.varint()))
            elif wire == 2:
                n = self.varint()
                if self.pos + n > len(self.data):
                    raise ValueError("truncated length-delimited field")
                out.append((number, wire, self.data[self.pos:self.pos + n]))
                self.pos += n
            elif wire == 1:
                self.pos += 8
            elif wire == 5:
                self.pos += 4
            else:
                raise ValueError(f"unsupported wire type {wire}")
        return out


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _str(v: Any) -> str:
    if not isinstance(v, bytes):
        raise ValueError("expected a string")
    return v.decode("utf-8")


def _bytes(v: Any) -> bytes:
    if not isinstance(v, bytes):
        raise ValueError("expected a length-delimited field, got a number")
    return v


def _int(v: Any) -> int:
    if not isinstance(v, int):
        raise ValueError("expected a number, got a length-delimited field")
    return v


def _map_entry(v: Any) -> tuple[str, bytes]:
    key, value = "", b""
    for number, _, raw in _Reader(_bytes(v)).fields():
        if number == 1:
            key = _str(raw)
        elif number == 2:
            value = _bytes(raw)
    return key, value


def _scalar(kind: str, sub: str, raw: Any) -> Any:
    if kind == STR:
        return _str(raw)
    if kind == INT:
        return _signed(raw) if isinstance(raw, int) else None
    if kind == BOOL:
        return bool(_int(raw))
    if kind == BYTES:
        return _bytes(raw)
    if kind == B64:
        return base64.b64encode(_bytes(raw)).decode()
    if kind == MSG:
        return _message(sub, _bytes(raw))
    if kind == INTSTR:
        parts = {n: r for n, _, r in _Reader(_bytes(raw)).fields()}
        if _int(parts.get(1, 0)) == 1:
            return _str(parts.get(3, b""))
        return _signed(_int(parts.get(2, 0)))
    if kind == TIME:
        parts = {n: r for n, _, r in _Reader(_bytes(raw)).fields()}
        seconds = _signed(_int(parts.get(1, 0)))
        if not seconds:
            return None
        try:
            when = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
        except (OverflowError, OSError):
            raise ValueError(f"a time of {seconds} seconds is out of range") from None
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise ValueError(f"unknown field kind {kind}")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value is False or value == 0 or value == {} or value == []


def _message(name: str, data: bytes) -> dict[str, Any]:
    schema = SCHEMAS[name]
    out: dict[str, Any] = {}
    for number, _, raw in _Reader(data).fields():
        spec = schema.get(number)
        if spec is None:
            continue
        field, kind, repeated, sub = spec
        if kind in (MAP_STR, MAP_BYTES, MAP_QTY):
            k, v = _map_entry(raw)
            if kind == MAP_STR:
                value: Any = _str(v)
            elif kind == MAP_BYTES:
                value = base64.b64encode(v).decode()
            else:
                value = _str(next((r for n, _, r in _Reader(v).fields() if n == 1), b""))
            out.setdefault(field, {})[k] = value
            continue
        value = _scalar(kind, sub, raw)
        if repeated:
            out.setdefault(field, []).append(value)
        elif not _empty(value) or (field in KEEP_ZERO and value is not None and value != ""):
            out[field] = value
    return out


def decode(data: bytes) -> dict[str, Any]:
    """A protobuf-encoded object as the JSON dict the rest of the pipeline takes."""
    if not data.startswith(MAGIC):
        raise errors.bad_request("the protobuf body does not start with the Kubernetes magic number")
    try:
        envelope = _message("Unknown", data[len(MAGIC):])
        type_meta = envelope.get("typeMeta") or {}
        kind = type_meta.get("kind", "")
        if envelope.get("contentEncoding"):
            raise errors.unsupported_media_type(f"protobuf with content encoding {envelope['contentEncoding']}")
        if kind not in SCHEMAS or kind in ("Unknown", "TypeMeta"):
            raise errors.unsupported_media_type(
                f"application/vnd.kubernetes.protobuf for kind {kind or '(none)'}; send JSON instead")
        obj = _message(kind, envelope.get("raw", b""))
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"the protobuf body does not decode: {exc}") from exc
    obj["apiVersion"] = type_meta.get("apiVersion", "")
    obj["kind"] = kind
    obj.setdefault("metadata", {})
    return obj

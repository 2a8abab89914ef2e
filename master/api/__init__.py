"""Kubernetes-shaped object types, validation, defaults, and the resource registry.

Shared by every component; imports nothing else of ours. Where things are::

    meta           TypeMeta/Object bases, ObjectMeta, ListMeta, ObjectList[T], LabelSelector,
                   Condition, Status, DeleteOptions, WatchEvent, discovery documents
    core           core/v1: Pod (+ PodTemplateSpec, Binding), Node, Namespace, Service, Endpoints,
                   ConfigMap, Secret, ServiceAccount, Event, ObjectReference
    apps           apps/v1: Deployment, ReplicaSet, DaemonSet
    autoscaling    Scale          policy        Eviction
    coordination   Lease          discovery     EndpointSlice
    rbac           Role, ClusterRole, RoleBinding, ClusterRoleBinding
    certificates   CertificateSigningRequest
    authentication TokenRequest, TokenReview, SelfSubjectReview (not stored)
    authorization  SubjectAccessReview, SelfSubjectAccessReview, SelfSubjectRulesReview (not stored)
    schema         field markers: QuantityStr, IntOrString, Int32/Int64, Time, merge_by(...), MERGE,
                   RETAIN_KEYS
    codec          encode / decode / convert / to_builtins / encode_list / decode_list / clone
    yamlfmt        YAML as Kubernetes reads it (dates stay strings, bad tagged values are YAML errors)
    unstructured   dig: a path into a plain-JSON object, a default where it leaves it
    timefmt        RFC 3339 helpers          quantity   "100m", "128Mi" -> exact values
    field          FieldError and builders   validation name/label/port syntax checks
    status         Status builders (not_found, conflict, invalid, ...) and StatusError
    labels         label selectors           fields     field selectors
    patch          JSON merge patch, JSON patch, strategic merge patch
    strategy       per-kind defaults, create/update preparation, validation, field attributes
    registry       Resource entries and the Registry (DEFAULT) the apiserver and CLI look up
    helpers        controller_ref, conditions, readiness, keys (never mutating their input)
    admission      DefaultTolerationSeconds and other pure admission steps
    scheduling     tolerations vs taints, node selectors and required node affinity vs nodes
"""

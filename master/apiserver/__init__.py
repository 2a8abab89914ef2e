"""The Kubernetes-compatible API server: the only component that talks to the store.

A request's path through the package::

    server.py        HTTPS (aiohttp + ssl), the pipeline: errors/metrics/audit -> authn.py ->
                     authn_impersonation.py -> authz.py -> route
    requestinfo.py   path -> verb, group, version, resource, subresource, namespace, name
    discovery.py     /api, /apis (legacy and aggregated), /version
    openapi.py       /openapi/v2 (JSON and kubectl's protobuf, openapi_proto.py) and /openapi/v3,
                     from our types (openapi_schema.py, openapi_paths.py, openapi_descriptions.py)
    verbs/           one module per verb: read (get, list), watch, write (create, update, patch),
                     delete (delete, deletecollection), subresources (binding, eviction, scale,
                     finalize), logs (pods/log, proxied to the agent)
    body.py          content types, size limit, JSON/YAML;  protobuf.py  kubectl's protobuf bodies
    rules.py         master.api's types and strategies applied to the dict-shaped pipeline
    admission/       NamespaceLifecycle, ServiceAccount, DefaultTolerationSeconds
    hooks.py         per-resource extras joining a write's transaction (Service IP/port allocation,
                     allocator.py), the default ServiceAccount of a new namespace
    storage.py       keys, encoding, the create/update/delete transactions, guaranteed_update
    watchcache.py    one store watch per resource, fanned out to every HTTP watcher
    tables.py        server-side printing (kubectl's columns)
    certs.py         first-start PKI and the admin kubeconfig;  bootstrap.py  system objects
    app.py           the start/stop component ``pictl master`` composes

Security (issue 8), wired by security.py from the settings::

    authn*.py        who: x509 (authn), bearer tokens: static file (authn_tokenfile), bootstrap
                     tokens (authn_bootstrap), ServiceAccount JWTs and their issuer
                     (authn_serviceaccount); impersonation; TokenReview, SelfSubjectReview,
                     TokenRequest (authn_reviews)
    authz*.py        may they: the chain and modes (authz), Node (authz_node), RBAC (authz_rbac),
                     the default roles (authz_policy), no escalation + read-your-writes
                     (authz_hooks), access reviews (authz_reviews)
    admission/       + NodeRestriction, CertificateApproval/Signing/SubjectRestriction
    csr.py           CertificateSigningRequests: requester, approval subresource
    encryption.py    EncryptionConfiguration: aesgcm + identity behind transformer.py
    audit*.py        the audit policy and the rotating JSON-lines log
"""

"""The etcd-style MVCC store: backends, watch hub, leases, compaction, and the etcd v3 gRPC service.

A map, one concept per module:

    types.py, errors.py, client.py   the contract: etcd v3 shapes, errors, the async Client
    settings.py                      StoreSettings / SqliteSettings (frozen; tests shrink them)
    store.py                         Store: lifecycle, requests, background tasks, stats()
    local.py                         LocalClient: the Client contract on a Store in-process
    revision.py                      Revision(main, sub)
    key_index.py, index.py           one key's generations; all keys in byte order
    kv.py                            revisions (rev, committed, compact_rev), write txns, commit order
    apply.py, check.py               what range/put/delete/txn do; stateless request checks
    lease.py                         the lessor: TTLs, attached keys, expiry
    watch.py                         the watch hub: replay, live, progress, slow-watcher policy
    compactor.py                     automatic compaction targets (by revisions, by age)
    backend.py, backends/            the backend contract; memory and sqlite (group commit,
                                     row cache)
    grpcserver.py, grpcclient.py,    the etcd v3 gRPC face and client, the `pictl store` process
    grpcconv.py, server.py, main.py, (main.py: its lean entry point), Prometheus metrics
    metrics.py, etcdpb/
"""

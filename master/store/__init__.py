"""The etcd-style MVCC store: backends, watch hub, leases, compaction, and the etcd v3 gRPC service."""

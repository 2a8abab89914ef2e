"""etcd v3 protobuf messages and gRPC stubs, generated from our own ``kv.proto`` and ``rpc.proto``.

The ``*_pb2*`` modules are generated and committed; regenerate them with
``scripts/gen_protos.sh`` after editing a ``.proto`` file.
"""

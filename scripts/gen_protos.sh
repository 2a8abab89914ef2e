#!/usr/bin/env bash
# Regenerate the etcd v3 gRPC stubs in master/store/etcdpb from our own .proto files there.
# The generated *_pb2*.py(i) files are committed; rerun this after editing a .proto.
# Needs grpcio-tools (in the `test` extra): .venv/bin/pip install -e '.[test]'.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
out=master/store

# Proto file names are "etcdpb/kv.proto" and "etcdpb/rpc.proto" (relative to master/store), which
# keeps them distinct in protobuf's global descriptor pool.
"$PY" -m grpc_tools.protoc -I "$out" \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
  "$out"/etcdpb/kv.proto "$out"/etcdpb/rpc.proto

# kv.proto declares no services: its gRPC module would be empty.
rm -f "$out"/etcdpb/kv_pb2_grpc.py
# protoc writes absolute imports ("from etcdpb import kv_pb2"); make them package-relative.
sed -i -E 's/^from etcdpb import /from . import /' "$out"/etcdpb/*_pb2.py "$out"/etcdpb/*_pb2.pyi "$out"/etcdpb/*_pb2_grpc.py
echo "regenerated: $(ls "$out"/etcdpb/*_pb2*.py* | tr '\n' ' ')"

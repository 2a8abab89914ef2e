"""``Netfilter`` on the real kernel: one NETLINK_NETFILTER socket, batches and dumps.

The socket is opened by a ``NetnsWorker`` (so it lives in the given network namespace)
and then used from the caller's thread under a lock. nf_tables processes a batch inside
``sendmsg`` itself, so every reply is queued on our socket by the time ``sendto``
returns; we read until the ACK of the batch's last message (or an error about the batch as
a whole) arrives.
"""

from __future__ import annotations

import errno as _errno
import random
import socket
import threading
from collections.abc import Sequence

from agent.network.netns import NetnsWorker
from agent.proxy.errors import ApplyError, DumpError, NetfilterError
from agent.proxy.nft import expr as x
from agent.proxy.nft import wire
from agent.proxy.nft.ops import Op
from agent.proxy.nft.ruleset import Chain, Hook, Rule, TableState

__all__ = ["KernelNetfilter"]

NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33

_RECV_SIZE = 1 << 20
_RCVBUF = 8 << 20
_TIMEOUT = 30.0


def _open_socket() -> socket.socket:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    try:
        sock.bind((0, 0))
        # Errors echo only the failed message's header, not the whole message.
        sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, _RCVBUF)
        except PermissionError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
        sock.settimeout(_TIMEOUT)
    except BaseException:
        sock.close()
        raise
    return sock


class KernelNetfilter:
    def __init__(self, netns: str | None = None) -> None:
        self._worker = NetnsWorker(netns, name="nft")
        try:
            self._sock = self._worker.call(_open_socket)
        except OSError as exc:
            self._worker.close()
            raise NetfilterError(f"nft: cannot open netlink socket: {exc}", exc.errno) from exc
        finally:
            # Only socket creation has to happen inside the namespace.
            self._worker.close()
        self._lock = threading.Lock()
        self._seq = random.randrange(1 << 20, 1 << 30)
        self._sndbuf = 0

    def close(self) -> None:
        self._sock.close()

    # -- writing ------------------------------------------------------------------------

    def apply(self, ops: Sequence[Op]) -> None:
        if not ops:
            return
        with self._lock:
            batch = wire.encode_batch(ops, seq=self._seq)
            self._seq = batch.last_seq + 1
            ack_seq = wire.ack_last(batch)
            data = batch.data()
            self._ensure_sndbuf(len(data))
            try:
                self._sock.sendto(data, (0, 0))
            except OSError as exc:
                raise NetfilterError(
                    f"nft: sending a batch of {len(ops)} ops failed: {exc}", exc.errno
                ) from exc
            failures = self._read_acks(batch, ack_seq)
        if failures:
            raise ApplyError(failures)

    def _ensure_sndbuf(self, size: int) -> None:
        want = size + 65536
        if want <= self._sndbuf:
            return
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, want)
        except PermissionError:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, want)
        self._sndbuf = want

    def _read_acks(self, batch: wire.Batch, ack_seq: int) -> list[tuple[str, int]]:
        failures: list[tuple[str, int]] = []
        while True:
            try:
                data = self._sock.recv(_RECV_SIZE)
            except TimeoutError as exc:
                raise NetfilterError("nft: no answer from the kernel to our batch") from exc
            except OSError as exc:
                if exc.errno == _errno.ENOBUFS:
                    raise NetfilterError("nft: too many errors to read (ENOBUFS)", exc.errno) from exc
                raise NetfilterError(f"nft: reading the batch result failed: {exc}", exc.errno) from exc
            for msg in wire.parse_messages(data):
                if msg.error is None:
                    continue
                if msg.error:
                    failures.append((batch.describe(msg.seq), msg.error))
                if msg.seq in (ack_seq, batch.first_seq + 1):
                    # The ACK (or error) of the last message comes after every other error;
                    # an error on BATCH_BEGIN means the batch as a whole was refused.
                    return failures

    # -- reading ------------------------------------------------------------------------

    def _request(self, data_for_seq: bytes, seq: int, *, dump: bool) -> list[wire.DumpMessage]:
        self._sock.sendto(data_for_seq, (0, 0))
        out: list[wire.DumpMessage] = []
        while True:
            try:
                data = self._sock.recv(_RECV_SIZE)
            except OSError as exc:
                raise DumpError(f"nft: reading a dump failed: {exc}", exc.errno) from exc
            for msg in wire.parse_messages(data):
                if msg.seq != seq:
                    continue
                if msg.error:
                    raise DumpError(f"nft: dump failed: errno {msg.error}", msg.error)
                if msg.done or (not dump and msg.error == 0):
                    return out
                if msg.error is None:
                    out.append(msg)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _table_exists(self, table: str) -> bool:
        seq = self._next_seq()
        try:
            self._request(wire.table_request(table, seq), seq, dump=False)
        except DumpError as exc:
            if exc.errno == _errno.ENOENT:
                return False
            raise
        return True

    def _sets(self, table: str) -> dict[str, wire.RawSet]:
        seq = self._next_seq()
        raw = (wire.decode_set(m.attrs) for m in self._request(wire.sets_request(table, seq), seq, dump=True))
        return {s.name: s for s in raw if s.table == table}

    def _get_set(self, table: str, name: str) -> wire.RawSet | None:
        seq = self._next_seq()
        try:
            msgs = self._request(wire.set_request(table, name, seq), seq, dump=False)
        except DumpError as exc:
            if exc.errno == _errno.ENOENT:
                return None
            raise
        return wire.decode_set(msgs[0].attrs) if msgs else None

    def _elements(self, table: str, name: str) -> list[tuple[bytes, x.Verdict | None]]:
        seq = self._next_seq()
        out: list[tuple[bytes, x.Verdict | None]] = []
        for m in self._request(wire.elements_request(table, name, seq), seq, dump=True):
            out.extend(wire.decode_elements(m.attrs)[1])
        return out

    def _rules(
        self, table: str, chain: str | None, sets: dict[str, wire.RawSet] | None
    ) -> dict[str, list[Rule]]:
        seq = self._next_seq()
        msgs = self._request(wire.rules_request(table, chain, seq), seq, dump=True)
        by_chain: dict[str, list[Rule]] = {}
        anon: dict[str, x.Vmap] = {}
        for m in msgs:
            rule_table, rule_chain, raw = wire.decode_rule(m.attrs)
            if rule_table != table:
                continue
            exprs: list[x.Expr] = []
            for e in raw:
                if isinstance(e, wire.RawLookup):
                    exprs.append(self._resolve(table, e, sets, anon))
                else:
                    exprs.append(e)
            by_chain.setdefault(rule_chain, []).append(Rule(tuple(exprs)))
        return by_chain

    def _resolve(
        self, table: str, e: wire.RawLookup, sets: dict[str, wire.RawSet] | None, anon: dict[str, x.Vmap]
    ) -> x.Expr:
        if not e.set_name.startswith("__"):
            return x.Lookup(e.set_name, e.sreg, e.dreg, e.invert)
        if e.set_name in anon:
            return anon[e.set_name]
        spec = sets.get(e.set_name) if sets is not None else self._get_set(table, e.set_name)
        if spec is None:
            raise DumpError(f"nft: rule refers to unknown set {e.set_name!r}")
        elements = sorted(
            ((k, v) for k, v in self._elements(table, e.set_name) if v is not None), key=lambda kv: kv[0]
        )
        vmap = x.Vmap(tuple(elements), spec.key_type, spec.key_len, e.sreg, spec.host_order)
        anon[e.set_name] = vmap
        return vmap

    def dump(self, table: str) -> TableState | None:
        with self._lock:
            if not self._table_exists(table):
                return None
            seq = self._next_seq()
            hooks: dict[str, Hook | None] = {}
            for m in self._request(wire.chains_request(seq), seq, dump=True):
                chain_table, name, hook = wire.decode_chain(m.attrs)
                if chain_table == table:
                    hooks[name] = hook
            sets = self._sets(table)
            rules = self._rules(table, None, sets)
            state = TableState()
            for name, hook in hooks.items():
                state.chains[name] = Chain(name, tuple(rules.get(name, ())), hook)
            for name, raw in sets.items():
                if raw.anonymous:
                    continue
                state.sets[name] = raw.spec()
                state.elements[name] = dict(self._elements(table, name))
            return state

    def chain_rules(self, table: str, chain: str) -> tuple[Rule, ...] | None:
        with self._lock:
            try:
                rules = self._rules(table, chain, None).get(chain, [])
                # A dump of a missing chain is just empty; ask for the chain itself then.
                if not rules:
                    seq = self._next_seq()
                    self._request(wire.chain_request(table, chain, seq), seq, dump=False)
            except DumpError as exc:
                if exc.errno == _errno.ENOENT:
                    return None
                raise
            return tuple(rules)

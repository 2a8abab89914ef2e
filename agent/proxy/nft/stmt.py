"""Readable building blocks for rules: each returns the expressions and their nft text.

``rule(ip_saddr("10.244.1.5"), jump("mark-for-masquerade"))`` is the rule ``nft`` prints as
``ip saddr 10.244.1.5 jump mark-for-masquerade``. The text is for people (logs, test
failures); the expressions are what the kernel gets.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from agent.proxy.nft import expr as x
from agent.proxy.nft.ruleset import Rule

__all__ = [
    "KEY_IP_PROTO_PORT",
    "KEY_PROTO_PORT",
    "PROTOCOLS",
    "TYPE_IPV4_ADDR",
    "Stmt",
    "accept",
    "concat_vmap",
    "ct_state_new",
    "dnat",
    "drop",
    "fib_daddr_local",
    "fib_saddr_local",
    "goto",
    "ip_daddr",
    "ip_saddr",
    "jump",
    "key_ip_proto_port",
    "key_proto_port",
    "l4proto",
    "mark_clear",
    "mark_is_unset",
    "mark_set",
    "masquerade",
    "numgen_is",
    "numgen_vmap",
    "proto_port_vmap",
    "reject_icmp_port_unreachable",
    "reject_tcp_reset",
    "ret",
    "rule",
    "saddr_in",
    "update_saddr",
]

# nft data types (nftables/include/datatype.h); a concatenation packs 6 bits per field.
TYPE_INTEGER = 4
TYPE_IPV4_ADDR = 7
TYPE_INET_PROTO = 12
TYPE_INET_SERVICE = 13
KEY_IP_PROTO_PORT = ((TYPE_IPV4_ADDR << 6 | TYPE_INET_PROTO) << 6) | TYPE_INET_SERVICE
KEY_PROTO_PORT = (TYPE_INET_PROTO << 6) | TYPE_INET_SERVICE

PROTOCOLS = {"TCP": 6, "UDP": 17, "SCTP": 132}
_PROTO_NAMES = {v: k.lower() for k, v in PROTOCOLS.items()}

_SADDR = x.Payload(x.BASE_NETWORK, 12, 4)
_DADDR = x.Payload(x.BASE_NETWORK, 16, 4)


@dataclass(frozen=True, slots=True)
class Stmt:
    exprs: tuple[x.Expr, ...]
    text: str


def rule(*stmts: Stmt) -> Rule:
    return Rule(tuple(e for s in stmts for e in s.exprs), " ".join(s.text for s in stmts))


def _u32_host(value: int) -> bytes:
    return struct.pack("=I", value)


def _addr_match(load: x.Payload, field: str, value: str, negate: bool) -> Stmt:
    net = ipaddress.IPv4Network(value, strict=False)
    op = x.CMP_NEQ if negate else x.CMP_EQ
    shown = f"{field} {'!= ' if negate else ''}{value}"
    if net.prefixlen == 32:
        return Stmt((load, x.Cmp(op, net.network_address.packed)), shown)
    mask = x.Bitwise(net.netmask.packed, b"\0\0\0\0")
    return Stmt((load, mask, x.Cmp(op, net.network_address.packed)), shown)


def ip_saddr(value: str, *, negate: bool = False) -> Stmt:
    """``ip saddr 10.244.1.5`` or ``ip saddr != 10.244.0.0/16``."""
    return _addr_match(_SADDR, "ip saddr", value, negate)


def ip_daddr(value: str, *, negate: bool = False) -> Stmt:
    return _addr_match(_DADDR, "ip daddr", value, negate)


def l4proto(protocol: str) -> Stmt:
    number = PROTOCOLS[protocol]
    return Stmt(
        (x.Meta(x.META_L4PROTO), x.Cmp(x.CMP_EQ, bytes([number]))), f"meta l4proto {_PROTO_NAMES[number]}"
    )


def fib_daddr_local() -> Stmt:
    exprs = (x.Fib(x.FIB_F_DADDR, x.FIB_RESULT_ADDRTYPE), x.Cmp(x.CMP_EQ, _u32_host(x.RTN_LOCAL)))
    return Stmt(exprs, "fib daddr type local")


def fib_saddr_local() -> Stmt:
    exprs = (x.Fib(x.FIB_F_SADDR, x.FIB_RESULT_ADDRTYPE), x.Cmp(x.CMP_EQ, _u32_host(x.RTN_LOCAL)))
    return Stmt(exprs, "fib saddr type local")


def ct_state_new() -> Stmt:
    exprs = (
        x.Ct(x.CT_STATE),
        x.Bitwise(_u32_host(x.CT_STATE_NEW), _u32_host(0)),
        x.Cmp(x.CMP_NEQ, _u32_host(0)),
    )
    return Stmt(exprs, "ct state new")


def mark_is_unset(bit: int) -> Stmt:
    exprs = (x.Meta(x.META_MARK), x.Bitwise(_u32_host(bit), _u32_host(0)), x.Cmp(x.CMP_EQ, _u32_host(0)))
    return Stmt(exprs, f"meta mark & {bit:#010x} == 0")


def mark_set(bit: int) -> Stmt:
    """``meta mark set meta mark | bit`` (nft's OR is AND with the complement, XOR with bit)."""
    exprs = (
        x.Meta(x.META_MARK),
        x.Bitwise(_u32_host(0xFFFFFFFF ^ bit), _u32_host(bit)),
        x.MetaSet(x.META_MARK),
    )
    return Stmt(exprs, f"meta mark set meta mark | {bit:#010x}")


def mark_clear(bit: int) -> Stmt:
    """``meta mark set meta mark ^ bit``, used after testing that the bit is set."""
    exprs = (x.Meta(x.META_MARK), x.Bitwise(_u32_host(0xFFFFFFFF), _u32_host(bit)), x.MetaSet(x.META_MARK))
    return Stmt(exprs, f"meta mark set meta mark ^ {bit:#010x}")


def concat_vmap(set_name: str) -> Stmt:
    """``ip daddr . meta l4proto . th dport vmap @set_name``."""
    exprs = (
        _DADDR,
        x.Meta(x.META_L4PROTO, x.REG32_01),
        x.Payload(x.BASE_TRANSPORT, 2, 2, x.REG32_02),
        x.Lookup(set_name, x.REG_1, x.REG_VERDICT),
    )
    return Stmt(exprs, f"ip daddr . meta l4proto . th dport vmap @{set_name}")


def proto_port_vmap(set_name: str) -> Stmt:
    """``meta l4proto . th dport vmap @set_name``."""
    exprs = (
        x.Meta(x.META_L4PROTO),
        x.Payload(x.BASE_TRANSPORT, 2, 2, x.REG32_01),
        x.Lookup(set_name, x.REG_1, x.REG_VERDICT),
    )
    return Stmt(exprs, f"meta l4proto . th dport vmap @{set_name}")


def saddr_in(set_name: str) -> Stmt:
    return Stmt((_SADDR, x.Lookup(set_name)), f"ip saddr @{set_name}")


def update_saddr(set_name: str) -> Stmt:
    return Stmt((_SADDR, x.Dynset(set_name)), f"update @{set_name} {{ ip saddr }}")


def numgen_vmap(chains: Sequence[str]) -> Stmt:
    """``numgen random mod N vmap { 0 : goto c0, 1 : goto c1, ... }``: equal weights."""
    elements = tuple((_u32_host(i), x.Verdict(x.NFT_GOTO, c)) for i, c in enumerate(chains))
    exprs = (
        x.Numgen(len(chains)),
        x.Vmap(tuple(sorted(elements)), TYPE_INTEGER, 4, x.REG_1, host_order=True),
    )
    listed = ", ".join(f"{i} : goto {c}" for i, c in enumerate(chains))
    return Stmt(exprs, f"numgen random mod {len(chains)} vmap {{ {listed} }}")


def numgen_is(modulus: int, value: int = 0) -> Stmt:
    """``numgen random mod M == value``: a fresh random draw per evaluation."""
    exprs = (x.Numgen(modulus), x.Cmp(x.CMP_EQ, _u32_host(value)))
    return Stmt(exprs, f"numgen random mod {modulus} == {value}")


def jump(chain: str) -> Stmt:
    return Stmt((x.Verdict(x.NFT_JUMP, chain),), f"jump {chain}")


def goto(chain: str) -> Stmt:
    return Stmt((x.Verdict(x.NFT_GOTO, chain),), f"goto {chain}")


def ret() -> Stmt:
    return Stmt((x.Verdict(x.NFT_RETURN),), "return")


def drop() -> Stmt:
    return Stmt((x.Verdict(x.NF_DROP),), "drop")


def accept() -> Stmt:
    return Stmt((x.Verdict(x.NF_ACCEPT),), "accept")


def dnat(ip: str, port: int) -> Stmt:
    exprs = (
        x.Immediate(socket.inet_aton(ip), x.REG_1),
        x.Immediate(struct.pack(">H", port), x.REG_2),
        x.Nat(x.NAT_DNAT),
    )
    return Stmt(exprs, f"dnat to {ip}:{port}")


def masquerade(*, fully_random: bool = True) -> Stmt:
    flags = x.NF_NAT_RANGE_PROTO_RANDOM_FULLY if fully_random else 0
    return Stmt((x.Masq(flags),), "masquerade fully-random" if fully_random else "masquerade")


def reject_tcp_reset() -> Stmt:
    return Stmt((x.Reject(x.REJECT_TCP_RST),), "reject with tcp reset")


def reject_icmp_port_unreachable() -> Stmt:
    return Stmt((x.Reject(x.REJECT_ICMP_UNREACH, x.ICMP_PORT_UNREACH),), "reject")


def key_ip_proto_port(ip: str, protocol: str, port: int) -> bytes:
    """The 12-byte key of ``ip . proto . port``: each field padded to 4 bytes."""
    return socket.inet_aton(ip) + bytes([PROTOCOLS[protocol], 0, 0, 0]) + struct.pack(">H", port) + b"\0\0"


def key_proto_port(protocol: str, port: int) -> bytes:
    return bytes([PROTOCOLS[protocol], 0, 0, 0]) + struct.pack(">H", port) + b"\0\0"

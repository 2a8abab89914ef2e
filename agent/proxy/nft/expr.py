"""nftables expressions as values: the kernel's own vocabulary, one frozen dataclass each.

A rule in the kernel is a list of expressions that load bytes into registers, compare them,
look them up in sets and finally set a verdict. ``nft`` compiles its language down to
exactly these; we build them directly (see ``stmt`` for the readable layer on top), encode
them to netlink in ``wire`` and decode the kernel's dumps back into them, so "what we
asked for" and "what the kernel holds" compare with ``==``.

Registers use the numbers the kernel reports back in dumps: the four 16-byte registers are
``REG_1``..``REG_4``; a 4-byte sub-register that does not start a 16-byte one is
``REG32_00 + n`` (the second word of ``REG_1`` is ``REG32_01``). Concatenations such as
``ip daddr . meta l4proto . th dport`` load into ``REG_1``, ``REG32_01``, ``REG32_02``,
each field padded to 4 bytes, and are looked up with a 12-byte key starting at ``REG_1``.

Byte order: payload fields (addresses, ports) are network order; ``meta mark``, ``ct
state``, ``fib`` results and ``numgen`` values are host order, as in the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "REG32_01",
    "REG32_02",
    "REG_1",
    "REG_2",
    "REG_VERDICT",
    "Bitwise",
    "Cmp",
    "Counter",
    "Ct",
    "Dynset",
    "Expr",
    "Fib",
    "Immediate",
    "Lookup",
    "Masq",
    "Meta",
    "MetaSet",
    "Nat",
    "Numgen",
    "Payload",
    "Reject",
    "Verdict",
    "Vmap",
]

# Registers (as the kernel dumps them).
REG_VERDICT = 0
REG_1 = 1
REG_2 = 2
REG32_00 = 8
REG32_01 = 9
REG32_02 = 10

# enum nft_payload_bases
BASE_LL = 0
BASE_NETWORK = 1
BASE_TRANSPORT = 2

# enum nft_cmp_ops
CMP_EQ = 0
CMP_NEQ = 1

# enum nft_meta_keys (the ones we use)
META_MARK = 3
META_L4PROTO = 16

# verdicts (include/uapi/linux/netfilter.h and nf_tables.h)
NF_DROP = 0
NF_ACCEPT = 1
NFT_CONTINUE = -1
NFT_JUMP = -3
NFT_GOTO = -4
NFT_RETURN = -5

# enum nft_nat_types, nf_nat_range flags
NAT_SNAT = 0
NAT_DNAT = 1
NF_NAT_RANGE_MAP_IPS = 1
NF_NAT_RANGE_PROTO_SPECIFIED = 2
NF_NAT_RANGE_PROTO_RANDOM_FULLY = 16
NFPROTO_IPV4 = 2

# fib: flags and result
FIB_F_SADDR = 1
FIB_F_DADDR = 2
FIB_RESULT_ADDRTYPE = 3
RTN_LOCAL = 2

# ct
CT_STATE = 0
CT_STATE_NEW = 1 << 3

# reject
REJECT_ICMP_UNREACH = 0
REJECT_TCP_RST = 1
ICMP_PORT_UNREACH = 3

# dynset ops
DYNSET_OP_ADD = 0
DYNSET_OP_UPDATE = 1

# numgen types
NG_INCREMENTAL = 0
NG_RANDOM = 1


@dataclass(frozen=True, slots=True)
class Payload:
    """Load ``length`` bytes at ``offset`` of a header into ``dreg``."""

    base: int
    offset: int
    length: int
    dreg: int = REG_1


@dataclass(frozen=True, slots=True)
class Meta:
    """Load packet metadata (``key``) into ``dreg``."""

    key: int
    dreg: int = REG_1


@dataclass(frozen=True, slots=True)
class MetaSet:
    """Set packet metadata (``key``) from ``sreg``."""

    key: int
    sreg: int = REG_1


@dataclass(frozen=True, slots=True)
class Cmp:
    op: int
    data: bytes
    sreg: int = REG_1


@dataclass(frozen=True, slots=True)
class Bitwise:
    """``dreg = (sreg & mask) ^ xor`` over ``len(mask)`` bytes."""

    mask: bytes
    xor: bytes
    sreg: int = REG_1
    dreg: int = REG_1


@dataclass(frozen=True, slots=True)
class Immediate:
    """Load a constant into a data register."""

    data: bytes
    dreg: int = REG_1


@dataclass(frozen=True, slots=True)
class Verdict:
    """Set the verdict: accept, drop, return, or jump/goto ``chain``."""

    code: int
    chain: str | None = None


@dataclass(frozen=True, slots=True)
class Lookup:
    """Match ``sreg`` against the named set; with ``dreg`` set, a map lookup into ``dreg``."""

    set_name: str
    sreg: int = REG_1
    dreg: int | None = None
    invert: bool = False


@dataclass(frozen=True, slots=True)
class Vmap:
    """A lookup of ``sreg`` in an anonymous, constant verdict map written inline in the rule.

    ``elements`` are (key bytes, verdict) pairs sorted by key. ``key_type`` is nft's data
    type id (for ``nft list``), ``host_order`` tells nft to print the key in host byte order.
    """

    elements: tuple[tuple[bytes, Verdict], ...]
    key_type: int
    key_len: int
    sreg: int = REG_1
    host_order: bool = False


@dataclass(frozen=True, slots=True)
class Numgen:
    modulus: int
    type: int = NG_RANDOM
    dreg: int = REG_1
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Nat:
    type: int
    reg_addr: int | None = REG_1
    reg_proto: int | None = REG_2
    flags: int = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED
    family: int = NFPROTO_IPV4


@dataclass(frozen=True, slots=True)
class Masq:
    flags: int = 0


@dataclass(frozen=True, slots=True)
class Fib:
    flags: int
    result: int
    dreg: int = REG_1


@dataclass(frozen=True, slots=True)
class Ct:
    key: int
    dreg: int = REG_1


@dataclass(frozen=True, slots=True)
class Reject:
    type: int
    code: int = 0


@dataclass(frozen=True, slots=True)
class Dynset:
    """Add or update the key in ``sreg_key`` in a dynamic set, with a timeout in ms."""

    set_name: str
    op: int = DYNSET_OP_UPDATE
    sreg_key: int = REG_1
    timeout_ms: int = 0


@dataclass(frozen=True, slots=True)
class Counter:
    pass


Expr = (
    Payload
    | Meta
    | MetaSet
    | Cmp
    | Bitwise
    | Immediate
    | Verdict
    | Lookup
    | Vmap
    | Numgen
    | Nat
    | Masq
    | Fib
    | Ct
    | Reject
    | Dynset
    | Counter
)

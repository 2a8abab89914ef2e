"""The netlink codec without a kernel: expressions survive encode -> decode, batches are well formed."""

from __future__ import annotations

import struct

import pytest

from agent.proxy.nft import expr as x
from agent.proxy.nft import ops, stmt, wire
from agent.proxy.nft.ruleset import Chain, Element, Hook, Rule, SetSpec

EXPRS = [
    x.Payload(x.BASE_NETWORK, 12, 4),
    x.Payload(x.BASE_TRANSPORT, 2, 2, x.REG32_02),
    x.Meta(x.META_L4PROTO, x.REG32_01),
    x.MetaSet(x.META_MARK),
    x.Cmp(x.CMP_NEQ, b"\x0a\xf4\x00\x00"),
    x.Bitwise(b"\xff\xff\x00\x00", b"\0\0\0\0"),
    x.Immediate(b"\x1f\x90", x.REG_2),
    x.Verdict(x.NFT_JUMP, "mark-for-masquerade"),
    x.Verdict(x.NF_DROP),
    x.Lookup("service-ips", x.REG_1, x.REG_VERDICT),
    x.Lookup("aff-x", invert=True),
    x.Numgen(3),
    x.Nat(x.NAT_DNAT),
    x.Masq(x.NF_NAT_RANGE_PROTO_RANDOM_FULLY),
    x.Masq(),
    x.Fib(x.FIB_F_DADDR, x.FIB_RESULT_ADDRTYPE),
    x.Ct(x.CT_STATE),
    x.Reject(x.REJECT_TCP_RST),
    x.Reject(x.REJECT_ICMP_UNREACH, x.ICMP_PORT_UNREACH),
    x.Dynset("aff-x"),
    x.Dynset("aff-x", timeout_ms=5000),
    x.Counter(),
]


def _decode_list_elem(blob: bytes) -> x.Expr | wire.RawLookup:
    (_, elem), *_ = list(wire.attr_items(blob))
    e = wire.attr_map(elem)
    return wire.decode_expr(wire.get_str(e, wire.EXPR_NAME), e.get(wire.EXPR_DATA, b""))


@pytest.mark.parametrize("e", EXPRS, ids=lambda e: type(e).__name__)
def test_expression_round_trip(e):
    decoded = _decode_list_elem(wire._encode_expr(e))
    if isinstance(decoded, wire.RawLookup):
        assert isinstance(e, x.Lookup)
        decoded = x.Lookup(decoded.set_name, decoded.sreg, decoded.dreg, decoded.invert)
    assert decoded == e


def _messages(batch: wire.Batch) -> list[tuple[int, int, int]]:
    data = batch.data()
    out, offset = [], 0
    while offset < len(data):
        length, kind, flags, seq, _ = struct.unpack_from("=IHHII", data, offset)
        out.append((kind, flags, seq))
        offset += length
    assert offset == len(data)
    return out


def test_batch_framing_and_ack_on_last_message():
    rule = stmt.rule(stmt.numgen_vmap(["a", "b"]))
    batch = wire.encode_batch(
        [
            ops.AddTable("t"),
            ops.AddChain("t", "a"),
            ops.AddChain("t", "b"),
            ops.AddChain("t", "c", Hook("nat", 0, -100)),
            ops.AddRule("t", "c", rule),
            ops.AddSet("t", SetSpec("m", stmt.KEY_PROTO_PORT, 8, verdict_map=True)),
            ops.AddElements(
                "t", "m", (Element("m", stmt.key_proto_port("TCP", 80), x.Verdict(x.NFT_GOTO, "a")),)
            ),
        ],
        seq=100,
    )
    ack = wire.ack_last(batch)
    msgs = _messages(batch)
    assert msgs[0][0] == wire.NFNL_MSG_BATCH_BEGIN and msgs[-1][0] == wire.NFNL_MSG_BATCH_END
    assert [m[2] for m in msgs] == list(range(101, 101 + len(msgs)))
    # The inline vmap is an anonymous set + its elements, just before the rule.
    types = [m[0] & 0xFF for m in msgs[1:-1]]
    assert types == [
        wire.MSG_NEWTABLE,
        wire.MSG_NEWCHAIN,
        wire.MSG_NEWCHAIN,
        wire.MSG_NEWCHAIN,
        wire.MSG_NEWSET,
        wire.MSG_NEWSETELEM,
        wire.MSG_NEWRULE,
        wire.MSG_NEWSET,
        wire.MSG_NEWSETELEM,
    ]
    acked = [m for m in msgs if m[1] & wire.NLM_F_ACK]
    assert [m[2] for m in acked] == [ack] == [msgs[-2][2]]
    assert batch.describe(msgs[4][2]) == "add chain c"


def test_error_messages_name_the_failed_sequence():
    failed_header = struct.pack("=IHHII", 40, (10 << 8) | 5, 1, 777, 0)
    err = (
        struct.pack("=IHHII", 16 + 4 + 16, wire.NLMSG_ERROR, 0, 777, 0)
        + struct.pack("=i", -16)
        + failed_header
    )
    ack = struct.pack("=IHHII", 36, wire.NLMSG_ERROR, 0, 778, 0) + struct.pack("=i", 0) + failed_header[:16]
    parsed = list(wire.parse_messages(err + ack))
    assert [(m.seq, m.error) for m in parsed] == [(777, 16), (777, 0)]


def test_malformed_input_is_an_error_not_a_hang():
    with pytest.raises(ValueError, match="malformed"):
        list(wire.parse_messages(struct.pack("=IHHII", 3, 0, 0, 0, 0)))


def test_unknown_op_and_expression_are_type_errors():
    with pytest.raises(TypeError):
        wire.encode_batch([object()], seq=1)  # type: ignore[list-item]
    with pytest.raises(TypeError):
        wire._encode_expr(object())  # type: ignore[arg-type]


def test_chain_decode_round_trip():
    body = wire._chain_body("t", "nat-prerouting", Hook("nat", 0, -100))
    assert wire.decode_chain(body) == ("t", "nat-prerouting", Hook("nat", 0, -100))
    assert wire.decode_chain(wire._chain_body("t", "plain", None)) == ("t", "plain", None)
    assert Chain("plain").hook is None


def test_set_decode_round_trip():
    spec = SetSpec("aff", stmt.TYPE_IPV4_ADDR, 4, dynamic=True, timeout_ms=10_800_000)
    assert wire.decode_set(wire._set_body("t", spec)).spec() == spec
    vmap = SetSpec("service-ips", stmt.KEY_IP_PROTO_PORT, 12, verdict_map=True)
    assert wire.decode_set(wire._set_body("t", vmap)).spec() == vmap


def test_rule_text_is_readable():
    r = stmt.rule(stmt.ip_saddr("10.244.0.0/16", negate=True), stmt.jump("mark-for-masquerade"))
    assert str(r) == "ip saddr != 10.244.0.0/16 jump mark-for-masquerade"
    assert str(Rule((x.Counter(),))) == "counter"


def test_long_element_lists_are_split_under_the_attribute_limit():
    elements = tuple(
        Element(
            "m",
            stmt.key_proto_port("TCP", p),
            x.Verdict(x.NFT_GOTO, f"ext-XXXXXXXX-default/svc-{p}/tcp/http"),
        )
        for p in range(1, 3001)
    )
    batch = wire.encode_batch([ops.AddElements("t", "m", elements)], seq=0)
    msgs = _messages(batch)[1:-1]
    assert len(msgs) > 1
    sizes = [len(p) for p in batch.parts[1:-1]]
    assert max(sizes) < 65535
    vmap = stmt.numgen_vmap([f"ep-{i:04d}-" + "x" * 60 for i in range(1500)])
    batch = wire.encode_batch([ops.AddRule("t", "c", stmt.rule(vmap))], seq=0)
    assert max(len(p) for p in batch.parts) < 65535

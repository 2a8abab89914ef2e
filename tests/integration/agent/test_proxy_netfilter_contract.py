"""One contract for both Netfilter implementations: the kernel (in a throwaway netns) and the fake.

What is applied reads back equal; a refused batch changes nothing and names the errno the
kernel gives for that mistake.
"""

from __future__ import annotations

import errno
import itertools
from collections.abc import Iterator

import pytest

from agent.proxy import rules
from agent.proxy.errors import ApplyError
from agent.proxy.model import EndpointInfo, EndpointPortInfo, ProxyConfig, ServiceInfo, ServicePortInfo
from agent.proxy.nft import expr as x
from agent.proxy.nft import ops, stmt
from agent.proxy.nft.fake import FakeNetfilter
from agent.proxy.nft.kernel import KernelNetfilter
from agent.proxy.nft.netfilter import Netfilter
from agent.proxy.nft.ruleset import Element, Ruleset, SetSpec

pytestmark = pytest.mark.root

T = "picluster"
CFG = ProxyConfig(node_name="pi-1", pod_cidr="10.244.1.0/24")


@pytest.fixture(params=["fake", "kernel"])
def netfilter(request, netns_factory) -> Iterator[Netfilter]:
    if request.param == "fake":
        yield FakeNetfilter()
        return
    ns = netns_factory()
    nf = KernelNetfilter(ns.name)
    try:
        yield nf
    finally:
        nf.close()


def web(
    *ips: str, affinity: bool = False, node_port: int | None = 30080
) -> tuple[ServiceInfo, tuple[EndpointInfo, ...]]:
    service = ServiceInfo(
        "default",
        "web",
        "10.96.0.10",
        (ServicePortInfo("http", "TCP", 80, "web", node_port), ServicePortInfo("dns", "UDP", 53, 53)),
        type="NodePort" if node_port else "ClusterIP",
        session_affinity=affinity,
    )
    ports = (EndpointPortInfo("http", 8080), EndpointPortInfo("dns", 5353, "UDP"))
    return service, tuple(EndpointInfo(ip, ports, node_name="pi-1") for ip in ips)


def ruleset(*services: tuple[ServiceInfo, tuple[EndpointInfo, ...]]) -> Ruleset:
    fragments = {rules.BASE: rules.base_fragment(CFG)}
    for service, endpoints in services:
        fragments[service.key] = rules.service_fragment(service, endpoints, CFG)
    return Ruleset(T, fragments)


def test_missing_table_dumps_as_none(netfilter):
    assert netfilter.dump(T) is None
    assert netfilter.chain_rules(T, "services") is None


def test_apply_and_read_back(netfilter):
    rs = ruleset(web("10.244.1.5", "10.244.1.6", "10.244.1.7", affinity=True))
    netfilter.apply(ops.recreate(rs))
    state = netfilter.dump(T)
    assert state is not None
    assert state.without_dynamic_elements() == rs.state()
    svc_chain = next(c for c in rs.chains() if c.name.startswith("svc-"))
    assert netfilter.chain_rules(T, svc_chain.name) == svc_chain.rules


def test_updates_read_back(netfilter):
    steps = [
        ruleset(web("10.244.1.5")),
        ruleset(web("10.244.1.5", "10.244.1.6")),
        ruleset(web("10.244.1.6", affinity=True)),
        ruleset(web()),
        ruleset(web("10.244.1.9", node_port=None)),
        ruleset(),
    ]
    netfilter.apply(ops.recreate(steps[0]))
    for before, after in itertools.pairwise(steps):
        try:
            plan = ops.update(before, after)
        except ops.RecreateNeeded:
            plan = ops.recreate(after)
        netfilter.apply(plan)
        state = netfilter.dump(T)
        assert state is not None and state.without_dynamic_elements() == after.state()


def test_recreate_is_idempotent_and_resync_repairs(netfilter):
    rs = ruleset(web("10.244.1.5", "10.244.1.6"))
    netfilter.apply(ops.recreate(rs))
    netfilter.apply(ops.recreate(rs))
    svc_chain = next(c.name for c in rs.chains() if c.name.startswith("svc-"))
    netfilter.apply([ops.FlushChain(T, svc_chain), ops.FlushSet(T, rules.SERVICE_IPS)])
    netfilter.apply(ops.resync(rs, rs))
    state = netfilter.dump(T)
    assert state is not None and state.without_dynamic_elements() == rs.state()


GOTO_SVC = x.Verdict(x.NFT_GOTO, "svc")
KEY = stmt.key_proto_port("TCP", 80)

SETUP: list[ops.Op] = [
    ops.AddTable(T),
    ops.AddChain(T, "svc"),
    ops.AddChain(T, "other"),
    ops.AddChain(T, "user"),
    ops.AddRule(T, "user", stmt.rule(stmt.jump("svc"))),
    ops.AddSet(T, SetSpec("m", stmt.KEY_PROTO_PORT, 8, verdict_map=True)),
    ops.AddElements(T, "m", (Element("m", KEY, x.Verdict(x.NFT_GOTO, "other")),)),
    ops.AddSet(T, SetSpec("aff", stmt.TYPE_IPV4_ADDR, 4, dynamic=True, timeout_ms=60_000)),
    ops.AddRule(T, "svc", stmt.rule(stmt.saddr_in("aff"), stmt.accept())),
]


@pytest.mark.parametrize(
    ("batch", "err"),
    [
        pytest.param([ops.DeleteTable("nope")], errno.ENOENT, id="delete-missing-table"),
        pytest.param([ops.DeleteChain(T, "nope")], errno.ENOENT, id="delete-missing-chain"),
        pytest.param([ops.FlushChain(T, "nope")], errno.ENOENT, id="flush-missing-chain"),
        pytest.param([ops.DeleteChain(T, "svc")], errno.EBUSY, id="delete-chain-jumped-to"),
        pytest.param([ops.DeleteChain(T, "other")], errno.EBUSY, id="delete-chain-in-a-map"),
        pytest.param(
            [ops.AddRule(T, "nope", stmt.rule(stmt.accept()))], errno.ENOENT, id="rule-in-missing-chain"
        ),
        pytest.param(
            [ops.AddRule(T, "svc", stmt.rule(stmt.goto("nope")))], errno.ENOENT, id="jump-to-missing-chain"
        ),
        pytest.param(
            [ops.AddRule(T, "svc", stmt.rule(stmt.saddr_in("nope")))], errno.ENOENT, id="missing-set"
        ),
        pytest.param(
            [ops.AddElements(T, "nope", (Element("nope", KEY, GOTO_SVC),))],
            errno.ENOENT,
            id="elements-of-missing-set",
        ),
        pytest.param(
            [ops.AddElements(T, "m", (Element("m", KEY, GOTO_SVC),))],
            errno.EEXIST,
            id="element-with-other-verdict",
        ),
        pytest.param(
            [
                ops.AddElements(
                    T, "m", (Element("m", stmt.key_proto_port("UDP", 1), x.Verdict(x.NFT_GOTO, "nope")),)
                )
            ],
            errno.ENOENT,
            id="element-to-missing-chain",
        ),
        pytest.param(
            [ops.DeleteElements(T, "m", (stmt.key_proto_port("UDP", 1),))],
            errno.ENOENT,
            id="delete-missing-element",
        ),
        pytest.param([ops.DeleteSet(T, "aff")], errno.EBUSY, id="delete-set-in-use"),
        pytest.param(
            [ops.AddSet(T, SetSpec("m", stmt.KEY_IP_PROTO_PORT, 12, verdict_map=True))],
            errno.EEXIST,
            id="set-redefined",
        ),
        pytest.param(
            [ops.AddChain(T, "fresh"), ops.FlushSet(T, "m"), ops.DeleteChain(T, "nope")],
            errno.ENOENT,
            id="all-or-nothing",
        ),
    ],
)
def test_refused_batches_change_nothing(netfilter, batch, err):
    netfilter.apply(SETUP)
    before = netfilter.dump(T)
    with pytest.raises(ApplyError) as info:
        netfilter.apply(batch)
    assert info.value.errno == err, info.value
    assert netfilter.dump(T) == before


def test_identical_element_is_not_an_error(netfilter):
    netfilter.apply(SETUP)
    netfilter.apply([ops.AddElements(T, "m", (Element("m", KEY, x.Verdict(x.NFT_GOTO, "other")),))])

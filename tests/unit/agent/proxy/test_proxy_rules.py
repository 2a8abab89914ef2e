"""The rules layout, as table cases: Services + endpoints -> chains, rules and map elements."""

from __future__ import annotations

import pytest
from proxy_helpers import ep, short, short_elements, short_rules, svc

from agent.proxy import rules
from agent.proxy.model import EndpointInfo, EndpointPortInfo, ProxyConfig, ServicePortInfo

CFG = ProxyConfig(node_name="pi-1")
MASQ = "ip saddr != 10.244.0.0/16 jump mark-for-masquerade"
HTTP = ServicePortInfo("http", "TCP", 80, "web")


def ep_chain(ip: str, port: int = 8080, proto: str = "tcp", svc_port: str = "http") -> str:
    return f"ep:default/web/{proto}/{svc_port}__{ip}/{port}"


def ep_rules(ip: str, port: int = 8080, proto: str = "tcp") -> list[str]:
    return [f"ip saddr {ip} jump mark-for-masquerade", f"meta l4proto {proto} dnat to {ip}:{port}"]


CASES = [
    pytest.param(
        svc(),
        [ep("10.244.1.5"), ep("10.244.2.5")],
        CFG,
        {
            "svc:default/web/tcp/http": [
                MASQ,
                f"numgen random mod 2 == 0 goto {ep_chain('10.244.1.5')}",
                f"goto {ep_chain('10.244.2.5')}",
            ],
            ep_chain("10.244.1.5"): ep_rules("10.244.1.5"),
            ep_chain("10.244.2.5"): ep_rules("10.244.2.5"),
        },
        {"service-ips: 10.96.0.10 . tcp . 80 : goto svc:default/web/tcp/http"},
        id="cluster-ip-two-endpoints",
    ),
    pytest.param(
        svc(),
        [ep("10.244.1.5")],
        CFG,
        {
            "svc:default/web/tcp/http": [MASQ, f"goto {ep_chain('10.244.1.5')}"],
            ep_chain("10.244.1.5"): ep_rules("10.244.1.5"),
        },
        {"service-ips: 10.96.0.10 . tcp . 80 : goto svc:default/web/tcp/http"},
        id="one-endpoint-no-numgen",
    ),
    pytest.param(
        svc(),
        [],
        CFG,
        {},
        {"no-endpoint-services: 10.96.0.10 . tcp . 80 : goto reject-chain"},
        id="no-endpoints-rejects",
    ),
    pytest.param(
        svc(),
        [
            ep("10.244.1.5", ready=False, serving=False),
            ep("10.244.1.6", ready=False, serving=True, terminating=False),
        ],
        CFG,
        {},
        {"no-endpoint-services: 10.96.0.10 . tcp . 80 : goto reject-chain"},
        id="not-ready-endpoints-are-not-used",
    ),
    pytest.param(
        svc(),
        [
            ep("10.244.1.5", ready=False, serving=True, terminating=True),
            ep("10.244.1.6", ready=False, serving=False),
        ],
        CFG,
        {
            "svc:default/web/tcp/http": [MASQ, f"goto {ep_chain('10.244.1.5')}"],
            ep_chain("10.244.1.5"): ep_rules("10.244.1.5"),
        },
        {"service-ips: 10.96.0.10 . tcp . 80 : goto svc:default/web/tcp/http"},
        id="serving-terminating-fallback-when-none-ready",
    ),
    pytest.param(
        svc(),
        [ep("10.244.1.5"), ep("10.244.1.6", ready=False, serving=True, terminating=True)],
        CFG,
        {
            "svc:default/web/tcp/http": [MASQ, f"goto {ep_chain('10.244.1.5')}"],
            ep_chain("10.244.1.5"): ep_rules("10.244.1.5"),
        },
        {"service-ips: 10.96.0.10 . tcp . 80 : goto svc:default/web/tcp/http"},
        id="ready-endpoints-win-over-terminating",
    ),
    pytest.param(
        svc("web", "10.96.0.10", ServicePortInfo("http", "TCP", 80, "web-port")),
        [ep("10.244.1.5", 8081), ep("10.244.1.6", 9000, name="metrics")],
        CFG,
        {
            "svc:default/web/tcp/http": [MASQ, f"goto {ep_chain('10.244.1.5', 8081)}"],
            ep_chain("10.244.1.5", 8081): ep_rules("10.244.1.5", 8081),
        },
        {"service-ips: 10.96.0.10 . tcp . 80 : goto svc:default/web/tcp/http"},
        id="named-target-port-resolved-by-slice-port-name",
    ),
    pytest.param(
        svc("web", "10.96.0.10", ServicePortInfo("", "TCP", 80, 8080)),
        [EndpointInfo("10.244.1.5")],
        CFG,
        {
            "svc:default/web/tcp/": [MASQ, f"goto {ep_chain('10.244.1.5', svc_port='')}"],
            ep_chain("10.244.1.5", svc_port=""): ep_rules("10.244.1.5"),
        },
        {"service-ips: 10.96.0.10 . tcp . 80 : goto svc:default/web/tcp/"},
        id="numeric-target-port-when-slice-has-no-ports",
    ),
    pytest.param(
        svc("web", "10.96.0.10", ServicePortInfo("dns", "UDP", 53, 53)),
        [EndpointInfo("10.244.1.5", (EndpointPortInfo("dns", 5353, "UDP"),))],
        CFG,
        {
            "svc:default/web/udp/dns": [
                MASQ,
                f"goto {ep_chain('10.244.1.5', 5353, 'udp', 'dns')}",
            ],
            ep_chain("10.244.1.5", 5353, "udp", "dns"): ep_rules("10.244.1.5", 5353, "udp"),
        },
        {"service-ips: 10.96.0.10 . udp . 53 : goto svc:default/web/udp/dns"},
        id="udp",
    ),
    pytest.param(
        svc("web", "10.96.0.10", ServicePortInfo("dns", "UDP", 53, 53)),
        [EndpointInfo("10.244.1.5", (EndpointPortInfo("dns", 5353, "TCP"),))],
        CFG,
        {},
        {"no-endpoint-services: 10.96.0.10 . udp . 53 : goto reject-chain"},
        id="protocol-must-match-slice-port",
    ),
    pytest.param(
        svc(session_affinity=True, affinity_timeout=60),
        [ep("10.244.1.5"), ep("10.244.2.5")],
        CFG,
        {
            "svc:default/web/tcp/http": [
                MASQ,
                f"ip saddr @aff:default/web/tcp/http__10.244.1.5/8080 goto {ep_chain('10.244.1.5')}",
                f"ip saddr @aff:default/web/tcp/http__10.244.2.5/8080 goto {ep_chain('10.244.2.5')}",
                f"numgen random mod 2 == 0 goto {ep_chain('10.244.1.5')}",
                f"goto {ep_chain('10.244.2.5')}",
            ],
            ep_chain("10.244.1.5"): [
                "ip saddr 10.244.1.5 jump mark-for-masquerade",
                "update @aff:default/web/tcp/http__10.244.1.5/8080 { ip saddr }",
                "meta l4proto tcp dnat to 10.244.1.5:8080",
            ],
            ep_chain("10.244.2.5"): [
                "ip saddr 10.244.2.5 jump mark-for-masquerade",
                "update @aff:default/web/tcp/http__10.244.2.5/8080 { ip saddr }",
                "meta l4proto tcp dnat to 10.244.2.5:8080",
            ],
        },
        {"service-ips: 10.96.0.10 . tcp . 80 : goto svc:default/web/tcp/http"},
        id="session-affinity-client-ip",
    ),
    pytest.param(
        svc("web", "10.96.0.10", ServicePortInfo("http", "TCP", 80, "web", 30080), type="NodePort"),
        [ep("10.244.1.5"), ep("10.244.2.5")],
        CFG,
        {
            "svc:default/web/tcp/http": [
                MASQ,
                f"numgen random mod 2 == 0 goto {ep_chain('10.244.1.5')}",
                f"goto {ep_chain('10.244.2.5')}",
            ],
            "ext:default/web/tcp/http": ["jump mark-for-masquerade", "goto svc:default/web/tcp/http"],
            ep_chain("10.244.1.5"): ep_rules("10.244.1.5"),
            ep_chain("10.244.2.5"): ep_rules("10.244.2.5"),
        },
        {
            "service-ips: 10.96.0.10 . tcp . 80 : goto svc:default/web/tcp/http",
            "service-nodeports: tcp . 30080 : goto ext:default/web/tcp/http",
        },
        id="nodeport-cluster-policy",
    ),
    pytest.param(
        svc(
            "web",
            "10.96.0.10",
            ServicePortInfo("http", "TCP", 80, "web", 30080),
            type="NodePort",
            external_local=True,
        ),
        [ep("10.244.1.5", node_name="pi-1"), ep("10.244.2.5", node_name="pi-2")],
        CFG,
        {
            "svc:default/web/tcp/http": [
                MASQ,
                f"numgen random mod 2 == 0 goto {ep_chain('10.244.1.5')}",
                f"goto {ep_chain('10.244.2.5')}",
            ],
            "ext:default/web/tcp/http": [
                "ip saddr 10.244.0.0/16 goto svc:default/web/tcp/http",
                "fib saddr type local jump mark-for-masquerade",
                "fib saddr type local goto svc:default/web/tcp/http",
                f"goto {ep_chain('10.244.1.5')}",
            ],
            ep_chain("10.244.1.5"): ep_rules("10.244.1.5"),
            ep_chain("10.244.2.5"): ep_rules("10.244.2.5"),
        },
        {
            "service-ips: 10.96.0.10 . tcp . 80 : goto svc:default/web/tcp/http",
            "service-nodeports: tcp . 30080 : goto ext:default/web/tcp/http",
        },
        id="nodeport-local-policy-only-local-endpoints",
    ),
    pytest.param(
        svc(
            "web",
            "10.96.0.10",
            ServicePortInfo("http", "TCP", 80, "web", 30080),
            type="NodePort",
            external_local=True,
        ),
        [ep("10.244.2.5", node_name="pi-2")],
        CFG,
        {
            "svc:default/web/tcp/http": [MASQ, f"goto {ep_chain('10.244.2.5')}"],
            "ext:default/web/tcp/http": [
                "ip saddr 10.244.0.0/16 goto svc:default/web/tcp/http",
                "fib saddr type local jump mark-for-masquerade",
                "fib saddr type local goto svc:default/web/tcp/http",
                "drop",
            ],
            ep_chain("10.244.2.5"): ep_rules("10.244.2.5"),
        },
        {
            "service-ips: 10.96.0.10 . tcp . 80 : goto svc:default/web/tcp/http",
            "service-nodeports: tcp . 30080 : goto ext:default/web/tcp/http",
        },
        id="nodeport-local-policy-no-local-endpoint-drops-external",
    ),
    pytest.param(
        svc("web", "10.96.0.10", ServicePortInfo("http", "TCP", 80, "web", 30080), type="NodePort"),
        [],
        CFG,
        {},
        {
            "no-endpoint-services: 10.96.0.10 . tcp . 80 : goto reject-chain",
            "no-endpoint-nodeports: tcp . 30080 : goto reject-chain",
        },
        id="nodeport-without-endpoints-rejects",
    ),
    pytest.param(
        svc(internal_local=True),
        [ep("10.244.1.5", node_name="pi-1"), ep("10.244.2.5", node_name="pi-2")],
        CFG,
        {
            "svc:default/web/tcp/http": [MASQ, f"goto {ep_chain('10.244.1.5')}"],
            ep_chain("10.244.1.5"): ep_rules("10.244.1.5"),
        },
        {"service-ips: 10.96.0.10 . tcp . 80 : goto svc:default/web/tcp/http"},
        id="internal-traffic-policy-local",
    ),
    pytest.param(
        svc(internal_local=True),
        [ep("10.244.2.5", node_name="pi-2")],
        CFG,
        {},
        {"no-endpoint-services: 10.96.0.10 . tcp . 80 : goto reject-chain"},
        id="internal-local-without-local-endpoint-rejects",
    ),
    pytest.param(
        svc(),
        [ep("10.244.1.5")],
        ProxyConfig(node_name="pi-1", masquerade_all=True),
        {
            "svc:default/web/tcp/http": ["jump mark-for-masquerade", f"goto {ep_chain('10.244.1.5')}"],
            ep_chain("10.244.1.5"): ep_rules("10.244.1.5"),
        },
        {"service-ips: 10.96.0.10 . tcp . 80 : goto svc:default/web/tcp/http"},
        id="masquerade-all",
    ),
    pytest.param(
        svc(),
        [ep("10.244.1.5")],
        ProxyConfig(node_name="pi-1", cluster_cidr=None),
        {
            "svc:default/web/tcp/http": [f"goto {ep_chain('10.244.1.5')}"],
            ep_chain("10.244.1.5"): ep_rules("10.244.1.5"),
        },
        {"service-ips: 10.96.0.10 . tcp . 80 : goto svc:default/web/tcp/http"},
        id="no-cluster-cidr-no-masquerade",
    ),
    pytest.param(
        svc(
            "web",
            "10.96.0.10",
            ServicePortInfo("http", "TCP", 80, "web"),
            ServicePortInfo("metrics", "TCP", 9090, 9090),
        ),
        [EndpointInfo("10.244.1.5", (EndpointPortInfo("http", 8080), EndpointPortInfo("metrics", 9090)))],
        CFG,
        {
            "svc:default/web/tcp/http": [MASQ, f"goto {ep_chain('10.244.1.5')}"],
            "svc:default/web/tcp/metrics": [MASQ, f"goto {ep_chain('10.244.1.5', 9090, svc_port='metrics')}"],
            ep_chain("10.244.1.5"): ep_rules("10.244.1.5"),
            ep_chain("10.244.1.5", 9090, svc_port="metrics"): ep_rules("10.244.1.5", 9090),
        },
        {
            "service-ips: 10.96.0.10 . tcp . 80 : goto svc:default/web/tcp/http",
            "service-ips: 10.96.0.10 . tcp . 9090 : goto svc:default/web/tcp/metrics",
        },
        id="two-ports",
    ),
]


@pytest.mark.parametrize(("service", "endpoints", "config", "chains", "elements"), CASES)
def test_service_fragment(service, endpoints, config, chains, elements):
    merged = rules.merge_endpoints([endpoints])
    fragment = rules.service_fragment(service, merged, config)
    assert short_rules(fragment) == chains
    assert short_elements(fragment) == elements


def test_many_endpoints_use_one_inline_vmap():
    endpoints = [ep(f"10.244.1.{i}") for i in range(2, 22)]
    fragment = rules.service_fragment(svc(), rules.merge_endpoints([endpoints]), CFG)
    (svc_chain,) = [c for c in fragment.chains if c.name.startswith("svc-")]
    assert [r.text.split(" vmap ")[0] for r in svc_chain.rules] == [MASQ, "numgen random mod 20"]
    assert short(svc_chain.rules[1].text).count("goto ep:") == 20


def test_sequential_numgen_gives_equal_weights():
    endpoints = [ep(f"10.244.1.{i}") for i in range(2, 7)]
    fragment = rules.service_fragment(svc(), rules.merge_endpoints([endpoints]), CFG)
    (svc_chain,) = [c for c in fragment.chains if c.name.startswith("svc-")]
    moduli = [r.text.split()[3] for r in svc_chain.rules[1:-1]]
    assert moduli == ["5", "4", "3", "2"]  # 1/5, then 1/4 of the rest, ...: 1/5 each
    assert svc_chain.rules[-1].text.startswith("goto ep-")


def test_affinity_sets_carry_the_timeout():
    fragment = rules.service_fragment(
        svc(session_affinity=True, affinity_timeout=60), [ep("10.244.1.5")], CFG
    )
    assert [(s.dynamic, s.timeout_ms, s.key_len) for s in fragment.sets] == [(True, 60_000, 4)]


def test_merge_endpoints_dedupes_across_slices_preferring_ready():
    a = [ep("10.244.1.5", ready=False, serving=True, terminating=True), ep("10.244.1.7")]
    b = [ep("10.244.1.5"), ep("10.244.1.6")]
    merged = rules.merge_endpoints([a, b])
    assert [(e.ip, e.ready) for e in merged] == [
        ("10.244.1.5", True),
        ("10.244.1.6", True),
        ("10.244.1.7", True),
    ]


def test_fragment_is_deterministic():
    eps = [ep("10.244.2.5"), ep("10.244.1.5")]
    one = rules.service_fragment(svc(session_affinity=True), rules.merge_endpoints([eps]), CFG)
    two = rules.service_fragment(
        svc(session_affinity=True), rules.merge_endpoints([list(reversed(eps))]), CFG
    )
    assert one == two


def test_chain_names_are_unique_and_bounded():
    long = "x" * 63
    a = svc(long, "10.96.0.10", ServicePortInfo("p" * 15, "TCP", 80, 80))
    b = svc(long + "y", "10.96.0.11", ServicePortInfo("p" * 15, "TCP", 80, 80))
    names = {rules.service_chain_name(s, s.ports[0]) for s in (a, b)}
    assert len(names) == 2
    assert all(len(n) <= 200 for n in names)
    ep_name = rules.endpoint_chain_name(a, a.ports[0], "10.244.100.200", 65535)
    assert len(ep_name) <= 200 and ep_name.startswith("ep-")


@pytest.mark.parametrize(
    ("config", "postrouting"),
    [
        pytest.param(
            ProxyConfig(node_name="pi-1", pod_cidr="10.244.1.0/24"),
            [
                "jump masquerading",
                "ip saddr 10.244.1.0/24 ip daddr != 10.244.0.0/16 masquerade fully-random",
            ],
            id="pod-egress-masquerade",
        ),
        pytest.param(ProxyConfig(node_name="pi-1"), ["jump masquerading"], id="no-pod-cidr-yet"),
    ],
)
def test_base_fragment(config, postrouting):
    base = rules.base_fragment(config)
    chains = {c.name: c for c in base.chains}
    assert [r.text for r in chains["nat-postrouting"].rules] == postrouting
    assert {c.name: str(c.hook) for c in base.chains if c.hook} == {
        "nat-prerouting": "type nat hook prerouting priority -100",
        "nat-output": "type nat hook output priority -100",
        "nat-postrouting": "type nat hook postrouting priority 100",
        "filter-input": "type filter hook input priority -110",
        "filter-forward": "type filter hook forward priority -110",
        "filter-output": "type filter hook output priority -110",
    }
    assert [r.text for r in chains["services"].rules] == [
        "ip daddr . meta l4proto . th dport vmap @service-ips",
        "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports",
    ]
    assert [r.text for r in chains["masquerading"].rules] == [
        "meta mark & 0x00004000 == 0 return",
        "meta mark set meta mark ^ 0x00004000",
        "masquerade fully-random",
    ]
    assert {s.name for s in base.sets} == {
        "service-ips",
        "service-nodeports",
        "no-endpoint-services",
        "no-endpoint-nodeports",
    }


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="invalid IPv4 CIDR 'nope'"):
        ProxyConfig(node_name="pi-1", cluster_cidr="nope")
    with pytest.raises(ValueError, match="masquerade bit"):
        ProxyConfig(node_name="pi-1", masquerade_bit=40)
    assert ProxyConfig(node_name="pi-1", pod_cidr="", cluster_cidr="").pod_cidr is None

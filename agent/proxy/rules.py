"""Services and endpoints -> our nftables table: the layout, as pure functions.

The table (``ip picluster``)::

    nat-prerouting   nat    prerouting  -100   jump services
    nat-output       nat    output      -100   jump services
    nat-postrouting  nat    postrouting  100   jump masquerading
                                               ip saddr <podCIDR> ip daddr != <clusterCIDR> masquerade
    filter-input     filter input       -110   ct state new jump service-endpoints-check
    filter-forward   filter forward     -110   (same)
    filter-output    filter output      -110   (same)

    services                  ip daddr . meta l4proto . th dport vmap @service-ips
                              fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports
    service-endpoints-check   the same two lookups in @no-endpoint-services / @no-endpoint-nodeports
    mark-for-masquerade       meta mark set meta mark | 0x4000
    masquerading              meta mark & 0x4000 == 0 return; clear the bit; masquerade fully-random
    reject-chain              meta l4proto tcp reject with tcp reset; reject (icmp port unreachable)

and per service port (``ns/name/tcp/http``), named with a hash so names stay unique::

    svc-XXXXXXXX-ns/name/tcp/http       ip saddr != <clusterCIDR> jump mark-for-masquerade
                                        [ip saddr @aff-... goto ep-...]   (sessionAffinity: ClientIP)
                                        numgen random mod 3 == 0 goto ep-...   (1/3)
                                        numgen random mod 2 == 0 goto ep-...   (1/2 of the rest)
                                        goto ep-...                            (the rest)
                                        (more than 16 endpoints: one
                                         numgen random mod N vmap { 0 : goto ep-..., ... })
    ext-XXXXXXXX-ns/name/tcp/http       NodePort entry: Cluster policy marks for masquerade and goes
                                        to svc-; Local policy keeps the client address and picks
                                        only this node's endpoints (pods and the node itself still
                                        reach every endpoint), or drops when there is none here
    ep-XXXXXXXX-ns/name/tcp/http__IP/PORT
                                        ip saddr IP jump mark-for-masquerade   (hairpin)
                                        [update @aff-... { ip saddr }]
                                        meta l4proto tcp dnat to IP:PORT

A service port with endpoints has an element in ``service-ips`` (and ``service-nodeports``)
pointing at its chain; one without has an element in ``no-endpoint-services`` (and
``no-endpoint-nodeports``) pointing at ``reject-chain``, so connections are refused at
once instead of hanging.

Masquerading, decided: traffic to a Service from outside the cluster CIDR (the node
itself, other hosts) is masqueraded so that replies return through this node and its
conntrack entry; so is NodePort traffic under the Cluster policy; and hairpin traffic (a
pod reaching itself through its Service), which the endpoint chain catches by its source
address. Pod-to-Service traffic otherwise keeps the pod's address.

Endpoints: ready ones; when none is ready, the serving and terminating ones (as Kubernetes
does, so rolling updates of a single-replica Deployment do not drop connections).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence

from agent.proxy.model import EndpointInfo, ProxyConfig, ServiceInfo, ServicePortInfo
from agent.proxy.nft import expr as x
from agent.proxy.nft import stmt as s
from agent.proxy.nft.ruleset import (
    HOOK_FORWARD,
    HOOK_INPUT,
    HOOK_OUTPUT,
    HOOK_POSTROUTING,
    HOOK_PREROUTING,
    Chain,
    Element,
    Fragment,
    Hook,
    Rule,
    SetSpec,
)

__all__ = [
    "BASE",
    "MARK_FOR_MASQUERADE",
    "NO_ENDPOINT_NODEPORTS",
    "NO_ENDPOINT_SERVICES",
    "REJECT_CHAIN",
    "SERVICE_IPS",
    "SERVICE_NODEPORTS",
    "base_fragment",
    "endpoint_chain_name",
    "merge_endpoints",
    "service_chain_name",
    "service_fragment",
]

BASE = ""  # the owner key of the base fragment; Service keys always contain a "/"

SERVICE_IPS = "service-ips"
SERVICE_NODEPORTS = "service-nodeports"
NO_ENDPOINT_SERVICES = "no-endpoint-services"
NO_ENDPOINT_NODEPORTS = "no-endpoint-nodeports"
SERVICES = "services"
ENDPOINTS_CHECK = "service-endpoints-check"
MARK_FOR_MASQUERADE = "mark-for-masquerade"
MASQUERADING = "masquerading"
REJECT_CHAIN = "reject-chain"

PRIORITY_DSTNAT = -100
PRIORITY_SRCNAT = 100
PRIORITY_FILTER = -110

_MAX_NAME = 200  # the kernel allows 255; keep room, the hash keeps names unique

# Up to this many endpoints a Service picks one with a short run of ``numgen`` rules;
# beyond it, with one inline vmap. Every inline vmap is an anonymous set, and the kernel
# walks the table's list of sets when it names a new one and when it checks jumps, so a
# set per Service made syncs grow with the square of the Services (measured: 8.6 s from
# scratch and 80 ms per change at 5000 Services, against 1.7 s and 19 ms without).
_SEQUENTIAL_MAX = 16


def _hash(ident: str) -> str:
    return base64.b32encode(hashlib.sha256(ident.encode()).digest())[:8].decode()


def _name(prefix: str, ident: str) -> str:
    return f"{prefix}-{_hash(ident)}-{ident}"[:_MAX_NAME]


def _port_ident(svc: ServiceInfo, port: ServicePortInfo) -> str:
    return f"{svc.namespace}/{svc.name}/{port.protocol.lower()}/{port.name}"


def service_chain_name(svc: ServiceInfo, port: ServicePortInfo) -> str:
    return _name("svc", _port_ident(svc, port))


def endpoint_chain_name(svc: ServiceInfo, port: ServicePortInfo, ip: str, target: int) -> str:
    return _name("ep", f"{_port_ident(svc, port)}__{ip}/{target}")


def _hook(kind: str, hooknum: int, priority: int) -> Hook:
    return Hook(kind, hooknum, priority)


def base_fragment(config: ProxyConfig) -> Fragment:
    bit = 1 << config.masquerade_bit
    check = s.rule(s.ct_state_new(), s.jump(ENDPOINTS_CHECK))
    postrouting = [s.rule(s.jump(MASQUERADING))]
    if config.pod_cidr and config.cluster_cidr:
        postrouting.append(
            s.rule(s.ip_saddr(config.pod_cidr), s.ip_daddr(config.cluster_cidr, negate=True), s.masquerade())
        )
    local_nodeport = (s.fib_daddr_local(), s.ip_daddr("127.0.0.0/8", negate=True))
    chains = (
        Chain("nat-prerouting", (s.rule(s.jump(SERVICES)),), _hook("nat", HOOK_PREROUTING, PRIORITY_DSTNAT)),
        Chain("nat-output", (s.rule(s.jump(SERVICES)),), _hook("nat", HOOK_OUTPUT, PRIORITY_DSTNAT)),
        Chain("nat-postrouting", tuple(postrouting), _hook("nat", HOOK_POSTROUTING, PRIORITY_SRCNAT)),
        Chain("filter-input", (check,), _hook("filter", HOOK_INPUT, PRIORITY_FILTER)),
        Chain("filter-forward", (check,), _hook("filter", HOOK_FORWARD, PRIORITY_FILTER)),
        Chain("filter-output", (check,), _hook("filter", HOOK_OUTPUT, PRIORITY_FILTER)),
        Chain(
            SERVICES,
            (
                s.rule(s.concat_vmap(SERVICE_IPS)),
                s.rule(*local_nodeport, s.proto_port_vmap(SERVICE_NODEPORTS)),
            ),
        ),
        Chain(
            ENDPOINTS_CHECK,
            (
                s.rule(s.concat_vmap(NO_ENDPOINT_SERVICES)),
                s.rule(*local_nodeport, s.proto_port_vmap(NO_ENDPOINT_NODEPORTS)),
            ),
        ),
        Chain(MARK_FOR_MASQUERADE, (s.rule(s.mark_set(bit)),)),
        Chain(
            MASQUERADING,
            (
                s.rule(s.mark_is_unset(bit), s.ret()),
                s.rule(s.mark_clear(bit)),
                s.rule(s.masquerade()),
            ),
        ),
        Chain(
            REJECT_CHAIN,
            (s.rule(s.l4proto("TCP"), s.reject_tcp_reset()), s.rule(s.reject_icmp_port_unreachable())),
        ),
    )
    sets = (
        SetSpec(SERVICE_IPS, s.KEY_IP_PROTO_PORT, 12, verdict_map=True),
        SetSpec(SERVICE_NODEPORTS, s.KEY_PROTO_PORT, 8, verdict_map=True),
        SetSpec(NO_ENDPOINT_SERVICES, s.KEY_IP_PROTO_PORT, 12, verdict_map=True),
        SetSpec(NO_ENDPOINT_NODEPORTS, s.KEY_PROTO_PORT, 8, verdict_map=True),
    )
    return Fragment(chains=chains, sets=sets)


def merge_endpoints(slices: Iterable[Sequence[EndpointInfo]]) -> tuple[EndpointInfo, ...]:
    """One entry per address across a Service's slices, a ready one winning, sorted by address."""
    best: dict[str, EndpointInfo] = {}
    for endpoints in slices:
        for e in endpoints:
            seen = best.get(e.ip)
            if seen is None or (e.ready and not seen.ready):
                best[e.ip] = e
    return tuple(best[ip] for ip in sorted(best))


def _usable(candidates: list[tuple[EndpointInfo, int]]) -> list[tuple[EndpointInfo, int]]:
    ready = [c for c in candidates if c[0].ready]
    if ready:
        return ready
    return [c for c in candidates if c[0].serving and c[0].terminating]


class _ServiceBuilder:
    """Collects one Service's chains, sets and elements."""

    def __init__(self, svc: ServiceInfo, config: ProxyConfig) -> None:
        self.svc = svc
        self.config = config
        self.chains: dict[str, Chain] = {}
        self.sets: dict[str, SetSpec] = {}
        self.elements: list[Element] = []

    def endpoint_chain(self, port: ServicePortInfo, ep: EndpointInfo, target: int) -> str:
        name = endpoint_chain_name(self.svc, port, ep.ip, target)
        if name in self.chains:
            return name
        rules = [s.rule(s.ip_saddr(ep.ip), s.jump(MARK_FOR_MASQUERADE))]
        if self.svc.session_affinity:
            aff = self.affinity_set(name)
            rules.append(s.rule(s.update_saddr(aff)))
        rules.append(s.rule(s.l4proto(port.protocol), s.dnat(ep.ip, target)))
        self.chains[name] = Chain(name, tuple(rules))
        return name

    def affinity_set(self, endpoint_chain: str) -> str:
        name = "aff-" + endpoint_chain[len("ep-") :]
        if name not in self.sets:
            timeout_ms = self.svc.affinity_timeout * 1000
            self.sets[name] = SetSpec(name, s.TYPE_IPV4_ADDR, 4, dynamic=True, timeout_ms=timeout_ms)
        return name

    def dispatch(self, port: ServicePortInfo, endpoints: list[tuple[EndpointInfo, int]]) -> list[Rule]:
        """Rules that pick one of ``endpoints`` (affinity first, then at random, equal weights)."""
        targets = [self.endpoint_chain(port, ep, target) for ep, target in endpoints]
        rules: list[Rule] = []
        if self.svc.session_affinity:
            rules += [s.rule(s.saddr_in(self.affinity_set(t)), s.goto(t)) for t in targets]
        n = len(targets)
        if n > _SEQUENTIAL_MAX:
            rules.append(s.rule(s.numgen_vmap(targets)))
            return rules
        # The i-th rule takes 1 of the (n - i) draws left: every endpoint ends up with 1/n.
        for i, target in enumerate(targets[:-1]):
            rules.append(s.rule(s.numgen_is(n - i), s.goto(target)))
        rules.append(s.rule(s.goto(targets[-1])))
        return rules

    def masquerade_rules(self) -> list[Rule]:
        if self.config.masquerade_all:
            return [s.rule(s.jump(MARK_FOR_MASQUERADE))]
        if self.config.cluster_cidr:
            return [s.rule(s.ip_saddr(self.config.cluster_cidr, negate=True), s.jump(MARK_FOR_MASQUERADE))]
        return []

    def add_chain(self, name: str, rules: Sequence[Rule]) -> str:
        self.chains[name] = Chain(name, tuple(rules))
        return name

    def element(self, set_name: str, key: bytes, target: str, shown: str) -> None:
        self.elements.append(
            Element(set_name, key, x.Verdict(x.NFT_GOTO, target), f"{shown} : goto {target}")
        )

    def port(self, port: ServicePortInfo, endpoints: Sequence[EndpointInfo]) -> None:
        svc, me = self.svc, self.config.node_name
        ident = _port_ident(svc, port)
        candidates = [(e, t) for e in endpoints if (t := e.port_for(port)) is not None]
        every = _usable(candidates)
        local = _usable([c for c in candidates if c[0].node_name == me])
        internal = local if svc.internal_local else every
        proto = port.protocol.lower()

        svc_chain = _name("svc", ident)
        ip_key = s.key_ip_proto_port(svc.cluster_ip, port.protocol, port.port)
        ip_shown = f"{svc.cluster_ip} . {proto} . {port.port}"
        if internal:
            self.add_chain(svc_chain, self.masquerade_rules() + self.dispatch(port, internal))
            self.element(SERVICE_IPS, ip_key, svc_chain, ip_shown)
        else:
            self.element(NO_ENDPOINT_SERVICES, ip_key, REJECT_CHAIN, ip_shown)

        if port.node_port is None:
            return
        np_key = s.key_proto_port(port.protocol, port.node_port)
        np_shown = f"{proto} . {port.node_port}"
        if not every:
            self.element(NO_ENDPOINT_NODEPORTS, np_key, REJECT_CHAIN, np_shown)
            return
        # Where pods and the node itself go: every endpoint, whatever the policies say.
        if internal is every:
            cluster_chain = svc_chain
        else:
            cluster_chain = self.add_chain(
                _name("clu", ident), self.masquerade_rules() + self.dispatch(port, every)
            )
        rules: list[Rule] = []
        if svc.external_local:
            if self.config.cluster_cidr:
                rules.append(s.rule(s.ip_saddr(self.config.cluster_cidr), s.goto(cluster_chain)))
            rules.append(s.rule(s.fib_saddr_local(), s.jump(MARK_FOR_MASQUERADE)))
            rules.append(s.rule(s.fib_saddr_local(), s.goto(cluster_chain)))
            rules += self.dispatch(port, local) if local else [s.rule(s.drop())]
        else:
            rules.append(s.rule(s.jump(MARK_FOR_MASQUERADE)))
            rules.append(s.rule(s.goto(cluster_chain)))
        ext_chain = self.add_chain(_name("ext", ident), rules)
        self.element(SERVICE_NODEPORTS, np_key, ext_chain, np_shown)

    def fragment(self) -> Fragment:
        return Fragment(
            chains=tuple(self.chains[n] for n in sorted(self.chains)),
            sets=tuple(self.sets[n] for n in sorted(self.sets)),
            elements=tuple(self.elements),
        )


def service_fragment(svc: ServiceInfo, endpoints: Sequence[EndpointInfo], config: ProxyConfig) -> Fragment:
    """Everything one Service contributes to the table, given its merged endpoints."""
    builder = _ServiceBuilder(svc, config)
    for port in svc.ports:
        if port.protocol in s.PROTOCOLS:
            builder.port(port, endpoints)
    return builder.fragment()

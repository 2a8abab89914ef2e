"""The LAN: a bridge in the root namespace and one veth pair per simulated Pi (netlink).

Each node's end of its pair is ``eth0`` in the node's namespace with the node's address; the
host end carries the node's netns name and is a port of the bridge. A partition takes the
port off the bridge (the node still sees a link, like a dead switch port: packets vanish,
connections hang rather than reset), heal puts it back.

Nothing here routes off the machine: nodes get no default route, and the host does no NAT.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import shutil
import subprocess

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from hw.testbed import netns
from hw.testbed.errors import TestbedError
from hw.testbed.naming import Plan

__all__ = [
    "attach_node",
    "ensure_bridge",
    "find_index",
    "host_links",
    "is_connected",
    "remove_host_links",
    "reset_node_network",
    "set_connected",
    "set_node_link",
    "subnet_in_use",
]

_ALIAS_PREFIX = "picluster-testbed:"
# Routes the kernel adds itself (the connected subnet, local addresses) survive a "reboot".
_RTPROT_KERNEL = 2


def _index(ip: IPRoute, ifname: str) -> int | None:
    found = ip.link_lookup(ifname=ifname)
    return found[0] if found else None


def host_links(prefix: str) -> list[str]:
    """Names of root-namespace links starting with ``prefix`` (a testbed's bridge and ports)."""
    with IPRoute() as ip:
        names = [str(link.get("ifname")) for link in ip.get_links()]
    return sorted(n for n in names if n.startswith(prefix))


def subnet_in_use(plan: Plan) -> bool:
    """Does anything in the root namespace already use this testbed's LAN range or bridge name?"""
    with IPRoute() as ip:
        if _index(ip, plan.bridge) is not None:
            return True
        for addr in ip.get_addr(family=2):
            a = addr.get("address")
            if a and plan.subnet.overlaps(ipaddress.IPv4Network(f"{a}/{addr['prefixlen']}", strict=False)):
                return True
    return False


def _alias(name: str) -> str:
    return f"{_ALIAS_PREFIX}{name}"


def find_index(name: str) -> int | None:
    """The index of testbed ``name`` from its bridge's alias, when its records are lost."""
    with IPRoute() as ip:
        for link in ip.get_links():
            ifname = str(link.get("ifname"))
            if link.get("ifalias") == _alias(name) and ifname.startswith("tb") and ifname.endswith("-lan"):
                with contextlib.suppress(ValueError):
                    return int(ifname[2:-4])
    return None


def ensure_bridge(plan: Plan) -> None:
    try:
        with IPRoute() as ip:
            br = _index(ip, plan.bridge)
            if br is None:
                ip.link("add", ifname=plan.bridge, kind="bridge")
                br = _index(ip, plan.bridge)
                assert br is not None
                # The bridge carries the testbed's name, so ``down`` finds it with no other record.
                ip.link("set", index=br, ifalias=_alias(plan.name))
            have = {str(a.get("address")) for a in ip.get_addr(index=br, family=2)}
            if plan.bridge_ip not in have:
                ip.addr("add", index=br, address=plan.bridge_ip, prefixlen=plan.prefixlen)
            ip.link("set", index=br, state="up")
    except NetlinkError as exc:
        raise TestbedError(f"lan: cannot make bridge {plan.bridge}: {exc}") from exc


def attach_node(plan: Plan, node: str) -> None:
    """Plug ``node`` (its namespace must exist) into the LAN with its address; idempotent."""
    name, veth, addr = plan.netns(node), plan.veth(node), plan.ip(node)
    try:
        with IPRoute() as ip:
            br = _index(ip, plan.bridge)
            if br is None:
                raise TestbedError(f"lan: bridge {plan.bridge} is missing")
            host = _index(ip, veth)
            if host is None:
                ip.link("add", ifname=veth, kind="veth", peer={"ifname": "eth0", "net_ns_fd": name})
                host = _index(ip, veth)
                assert host is not None
            ip.link("set", index=host, master=br, state="up")
    except NetlinkError as exc:
        raise TestbedError(f"lan: cannot plug {node} into {plan.bridge}: {exc}") from exc

    def inside() -> None:
        with IPRoute() as ip:
            lo, eth0 = _index(ip, "lo"), _index(ip, "eth0")
            if lo is None or eth0 is None:
                raise TestbedError(f"lan: {name} has no eth0 (veth {veth} belongs to something else?)")
            ip.link("set", index=lo, state="up")
            have = {str(a.get("address")) for a in ip.get_addr(index=eth0, family=2)}
            if addr not in have:
                ip.addr("add", index=eth0, address=addr, prefixlen=plan.prefixlen)
            ip.link("set", index=eth0, state="up")
        # Pods on the node's CNI bridge are routed through the node, like on a real Pi.
        with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
            f.write("1\n")

    try:
        netns.run_in(name, inside)
    except (NetlinkError, OSError) as exc:
        raise TestbedError(f"lan: cannot configure eth0 in {name}: {exc}") from exc


def is_connected(plan: Plan, node: str) -> bool:
    """Is the node's port up and on the bridge?"""
    with IPRoute() as ip:
        host, br = _index(ip, plan.veth(node)), _index(ip, plan.bridge)
        if host is None or br is None:
            return False
        link = ip.get_links(host)[0]
        return link.get("master") == br and link.get("state") == "up"


def set_connected(plan: Plan, node: str, connected: bool) -> None:
    try:
        with IPRoute() as ip:
            host, br = _index(ip, plan.veth(node)), _index(ip, plan.bridge)
            if host is None or br is None:
                raise TestbedError(f"lan: {node} has no port on {plan.bridge}")
            if connected:
                ip.link("set", index=host, master=br, state="up")
            else:
                ip.link("set", index=host, master=0)
    except NetlinkError as exc:
        raise TestbedError(f"lan: cannot {'heal' if connected else 'partition'} {node}: {exc}") from exc


def set_node_link(plan: Plan, node: str, up: bool) -> None:
    """eth0 inside the node up or down: a powered-off Pi does not even answer ARP."""

    def inside() -> None:
        with IPRoute() as ip:
            eth0 = _index(ip, "eth0")
            if eth0 is None:
                raise TestbedError(f"lan: {plan.netns(node)} has no eth0")
            ip.link("set", index=eth0, state="up" if up else "down")

    try:
        netns.run_in(plan.netns(node), inside)
    except NetlinkError as exc:
        raise TestbedError(f"lan: cannot set eth0 of {node} {'up' if up else 'down'}: {exc}") from exc


def remove_host_links(prefix: str) -> None:
    """Delete every root-namespace link of a testbed (ports first, then the bridge)."""
    with IPRoute() as ip:
        for link in sorted(ip.get_links(), key=lambda lk: lk.get("kind") == "bridge"):
            name = str(link.get("ifname"))
            if not name.startswith(prefix):
                continue
            try:
                ip.link("del", index=link["index"])
            except NetlinkError as exc:
                if exc.code != errno.ENODEV:
                    raise TestbedError(f"lan: cannot delete {name}: {exc}") from exc


def reset_node_network(plan: Plan, node: str) -> None:
    """What a reboot does to a node's network: only lo and eth0 (with its address) remain.

    Links made since boot (CNI bridges, pod veths) go, routes added since boot go, and the
    nftables ruleset is flushed.
    """
    name = plan.netns(node)

    def inside() -> None:
        with IPRoute() as ip:
            for link in ip.get_links():
                if link.get("ifname") not in ("lo", "eth0"):
                    try:
                        ip.link("del", index=link["index"])
                    except NetlinkError as exc:
                        if exc.code != errno.ENODEV:
                            raise
            for route in ip.get_routes(family=2, table=254):
                if route["proto"] != _RTPROT_KERNEL:
                    try:
                        ip.route("del", **_route_key(route))
                    except NetlinkError as exc:
                        if exc.code != errno.ESRCH:
                            raise

    netns.run_in(name, inside)
    nft = shutil.which("nft")
    if nft:
        subprocess.run(["nsenter", f"--net={netns.path(name)}", nft, "flush", "ruleset"],
                       capture_output=True, timeout=30)


def _route_key(route: object) -> dict[str, object]:
    get = route.get_attr  # type: ignore[attr-defined]
    key: dict[str, object] = {"dst_len": route["dst_len"], "table": 254}  # type: ignore[index]
    dst = get("RTA_DST")
    if dst:
        key["dst"] = dst
    oif = get("RTA_OIF")
    if oif:
        key["oif"] = oif
    gw = get("RTA_GATEWAY")
    if gw:
        key["gateway"] = gw
    return key

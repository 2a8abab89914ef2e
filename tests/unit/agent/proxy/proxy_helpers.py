"""Readable views of fragments and rulesets for assertions."""

from __future__ import annotations

from agent.proxy.model import EndpointInfo, EndpointPortInfo, ServiceInfo, ServicePortInfo
from agent.proxy.nft.ruleset import Fragment


def rule_texts(fragment: Fragment) -> dict[str, list[str]]:
    return {c.name: [r.text for r in c.rules] for c in fragment.chains}


def element_texts(fragment: Fragment) -> set[str]:
    return {f"{e.set_name}: {e.text}" for e in fragment.elements}


def short(text: str) -> str:
    """Chain names without their hash and identity: ``svc-ABCDEFGH-ns/n/tcp/p`` -> ``svc:ns/n/tcp/p``."""
    out = []
    for word in text.split(" "):
        for prefix in ("svc-", "ext-", "clu-", "ep-", "aff-", "@aff-"):
            if word.startswith(prefix) and word[len(prefix) + 8 : len(prefix) + 9] == "-":
                word = prefix.rstrip("-") + ":" + word[len(prefix) + 9 :]
                break
        out.append(word)
    return " ".join(out)


def short_rules(fragment: Fragment) -> dict[str, list[str]]:
    return {short(name): [short(t) for t in texts] for name, texts in rule_texts(fragment).items()}


def short_elements(fragment: Fragment) -> set[str]:
    return {short(t) for t in element_texts(fragment)}


def svc(
    name: str = "web",
    ip: str = "10.96.0.10",
    *ports: ServicePortInfo,
    **kw: object,
) -> ServiceInfo:
    return ServiceInfo("default", name, ip, ports or (ServicePortInfo("http", "TCP", 80, "web"),), **kw)  # type: ignore[arg-type]


def ep(ip: str, port: int = 8080, name: str = "http", **kw: object) -> EndpointInfo:
    return EndpointInfo(ip, (EndpointPortInfo(name, port),), **kw)  # type: ignore[arg-type]

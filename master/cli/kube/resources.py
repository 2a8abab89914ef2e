"""What the user means by resource arguments, as kubectl reads them.

::

    pods                 -> [(pods, [])]                       every pod
    po web db            -> [(pods, [web, db])]
    pods,svc             -> [(pods, []), (services, [])]
    deploy.apps/web      -> [(deployments, [web])]
    pod/web svc/web      -> [(pods, [web]), (services, [web])]
    all                  -> pods, services, daemonsets, deployments, replicasets

Names resolve through the registry (plural, singular, kind or short name, optionally with the
group). Unknown types are ``ResourceError`` with kubectl's wording:
``the server doesn't have a resource type "foo"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from master.api import registry

__all__ = ["ResourceError", "Target", "kind_name", "lookup", "parse", "type_names"]

# kubectl's order for "all".
_ALL_ORDER = ("pods", "services", "daemonsets", "deployments", "replicasets")


class ResourceError(ValueError):
    """Resource arguments that name nothing (one readable line)."""


@dataclass(slots=True)
class Target:
    resource: registry.Resource
    names: list[str] = field(default_factory=list)


def lookup(name: str, reg: registry.Registry | None = None) -> registry.Resource:
    reg = reg or registry.DEFAULT
    res = reg.lookup(name) if name.strip() else None
    if res is None:
        raise ResourceError(f'the server doesn\'t have a resource type "{name}"')
    return res


def _expand(types: str, reg: registry.Registry) -> list[registry.Resource]:
    out: list[registry.Resource] = []
    for t in types.split(","):
        t = t.strip()
        if not t:
            raise ResourceError(f'invalid resource type list "{types}"')
        if t == "all":
            found = sorted(reg.by_category("all"), key=lambda r: _rank(r.plural))
        else:
            found = [lookup(t, reg)]
        out.extend(r for r in found if r not in out)
    return out


def _rank(plural: str) -> int:
    return _ALL_ORDER.index(plural) if plural in _ALL_ORDER else len(_ALL_ORDER)


def parse(args: list[str], reg: registry.Registry | None = None) -> list[Target]:
    """Targets from ``TYPE[,TYPE...] [NAME...]`` or ``TYPE/NAME...`` arguments."""
    reg = reg or registry.DEFAULT
    if not args:
        raise ResourceError("you must specify the type of resource to get")
    if any("/" in a for a in args):
        if not all("/" in a for a in args):
            raise ResourceError(
                "there is no need to specify a resource type as a separate argument when passing arguments "
                "in resource/name form (e.g. 'pictl get resource/<resource_name>' instead of "
                "'pictl get resource resource/<resource_name>')"
            )
        targets: list[Target] = []
        for a in args:
            kind, _, name = a.partition("/")
            if not kind or not name or "/" in name:
                raise ResourceError(f'arguments in resource/name form must have a single resource and name: "{a}"')
            res = lookup(kind, reg)
            for t in targets:
                if t.resource is res:
                    t.names.append(name)
                    break
            else:
                targets.append(Target(res, [name]))
        return targets
    resources = _expand(args[0], reg)
    names = list(args[1:])
    for n in names:
        if not n.strip():
            raise ResourceError("resource name may not be empty")
    return [Target(r, list(names)) for r in resources]


def kind_name(res: registry.Resource) -> str:
    """``pod`` or ``deployment.apps``: how kubectl prefixes names (``-o name``, "created")."""
    kind = res.kind.lower()
    return f"{kind}.{res.group}" if res.group else kind


def type_names(reg: registry.Registry | None = None) -> list[str]:
    """Every name a resource type may be given by (shell completion)."""
    reg = reg or registry.DEFAULT
    names: set[str] = set()
    for r in reg.all():
        names.update({r.plural, r.singular, *r.short_names})
    return sorted(names)

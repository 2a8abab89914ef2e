"""Plans: recreate, update and resync produce batches the kernel accepts, touching only what changed.

The fake refuses what the kernel refuses (a dangling jump, deleting a chain in use, ...),
so applying a plan to it checks the plan's ordering too.
"""

from __future__ import annotations

import random

import pytest
from proxy_helpers import ep, svc

from agent.proxy import rules
from agent.proxy.model import EndpointInfo, ProxyConfig, ServiceInfo, ServicePortInfo
from agent.proxy.nft import ops
from agent.proxy.nft.fake import FakeNetfilter
from agent.proxy.nft.ruleset import Chain, Hook, Rule, Ruleset, SetSpec

CFG = ProxyConfig(node_name="pi-1", pod_cidr="10.244.1.0/24")


def ruleset(services: dict[str, tuple[ServiceInfo, list[EndpointInfo]]]) -> Ruleset:
    fragments = {rules.BASE: rules.base_fragment(CFG)}
    for key, (service, endpoints) in services.items():
        fragments[key] = rules.service_fragment(service, rules.merge_endpoints([endpoints]), CFG)
    return Ruleset("picluster", fragments)


def names_in(batch: list[ops.Op]) -> set[str]:
    out: set[str] = set()
    for op in batch:
        for attr in ("name", "chain", "set_name"):
            if hasattr(op, attr):
                out.add(getattr(op, attr))
    return out


def test_recreate_replaces_the_table_atomically():
    plan = ops.recreate(ruleset({}))
    assert plan[:3] == [ops.AddTable("picluster"), ops.DeleteTable("picluster"), ops.AddTable("picluster")]
    nf = FakeNetfilter()
    nf.apply(plan)
    assert nf.dump("picluster") == ruleset({}).state()


def test_update_with_nothing_changed_is_empty():
    one = ruleset({"default/web": (svc(), [ep("10.244.1.5")])})
    same_fragments = Ruleset("picluster", dict(one.fragments))
    assert ops.update(one, same_fragments) == []


def test_endpoint_change_touches_only_that_service():
    web = svc()
    other = svc("other", "10.96.0.20")
    before = ruleset({"default/web": (web, [ep("10.244.1.5")]), "default/other": (other, [ep("10.244.1.9")])})
    after_fragments = dict(before.fragments)
    after_fragments["default/web"] = rules.service_fragment(
        web, rules.merge_endpoints([[ep("10.244.1.5"), ep("10.244.2.5")]]), CFG
    )
    after = Ruleset("picluster", after_fragments)
    plan = ops.update(before, after)
    touched = names_in(plan)
    assert all("default/web" in n for n in touched), touched
    assert any(isinstance(op, ops.FlushChain) for op in plan)  # the service chain is rewritten
    assert not any(
        isinstance(op, (ops.AddElements, ops.DeleteElements)) for op in plan
    )  # map entry unchanged
    nf = FakeNetfilter()
    nf.apply(ops.recreate(before))
    nf.apply(plan)
    assert nf.dump("picluster") == after.state()


def test_removing_a_service_unhooks_before_deleting():
    before = ruleset({"default/web": (svc(session_affinity=True), [ep("10.244.1.5"), ep("10.244.2.5")])})
    after = ruleset({})
    plan = ops.update(before, after)
    kinds = [type(op).__name__ for op in plan]
    assert kinds.index("DeleteElements") < kinds.index("DeleteChain")
    assert max(i for i, k in enumerate(kinds) if k == "FlushChain") < kinds.index("DeleteChain")
    assert kinds[-1] == "DeleteSet"
    nf = FakeNetfilter()
    nf.apply(ops.recreate(before))
    nf.apply(plan)
    assert nf.dump("picluster") == after.state()


def test_losing_all_endpoints_moves_the_entry_to_the_reject_map():
    web = svc()
    before = ruleset({"default/web": (web, [ep("10.244.1.5")])})
    after = ruleset({"default/web": (web, [])})
    plan = ops.update(before, after)
    nf = FakeNetfilter()
    nf.apply(ops.recreate(before))
    nf.apply(plan)
    state = nf.dump("picluster")
    assert state == after.state()
    assert len(state.elements["service-ips"]) == 0
    assert len(state.elements["no-endpoint-services"]) == 1


def _base_with(chains: tuple[Chain, ...] = (), sets: tuple[SetSpec, ...] = ()) -> Ruleset:
    from agent.proxy.nft.ruleset import Fragment

    return Ruleset("t", {"": Fragment(chains=chains, sets=sets)})


def test_changed_set_definition_needs_recreate():
    a = _base_with(sets=(SetSpec("s", 7, 4, dynamic=True, timeout_ms=1000),))
    b = _base_with(sets=(SetSpec("s", 7, 4, dynamic=True, timeout_ms=2000),))
    with pytest.raises(ops.RecreateNeeded, match="set 's'"):
        ops.update(a, b)


def test_changed_hook_needs_recreate():
    a = _base_with(chains=(Chain("c", (), Hook("nat", 0, -100)),))
    b = _base_with(chains=(Chain("c", (), Hook("nat", 0, -90)),))
    with pytest.raises(ops.RecreateNeeded, match="chain 'c'"):
        ops.update(a, b)


def test_resync_rewrites_in_place_and_keeps_dynamic_sets():
    rs = ruleset({"default/web": (svc(session_affinity=True), [ep("10.244.1.5")])})
    plan = ops.resync(rs, rs)
    assert not any(isinstance(op, (ops.DeleteTable, ops.DeleteSet)) for op in plan)
    flushed_sets = {op.name for op in plan if isinstance(op, ops.FlushSet)}
    assert flushed_sets == {
        "service-ips",
        "service-nodeports",
        "no-endpoint-services",
        "no-endpoint-nodeports",
    }
    nf = FakeNetfilter()
    nf.apply(ops.recreate(rs))
    # Someone edits our table behind our back; a resync repairs it.
    chain = next(c for c in rs.chains() if c.name.startswith("svc-"))
    nf.apply([ops.FlushChain("picluster", chain.name), ops.AddRule("picluster", chain.name, Rule(()))])
    nf.apply(plan)
    assert nf.dump("picluster") == rs.state()


def test_resync_drops_what_the_old_ruleset_had():
    old = ruleset({"default/web": (svc(), [ep("10.244.1.5")])})
    new = ruleset({})
    nf = FakeNetfilter()
    nf.apply(ops.recreate(old))
    nf.apply(ops.resync(old, new))
    assert nf.dump("picluster") == new.state()


def _random_services(rng: random.Random) -> dict[str, tuple[ServiceInfo, list[EndpointInfo]]]:
    out: dict[str, tuple[ServiceInfo, list[EndpointInfo]]] = {}
    for i in rng.sample(range(8), rng.randint(0, 8)):
        node_port = 30000 + i if rng.random() < 0.4 else None
        port = ServicePortInfo("http", rng.choice(["TCP", "UDP"]), 80, 8080, node_port)
        service = svc(
            f"s{i}",
            f"10.96.0.{i + 1}",
            port,
            type="NodePort" if node_port else "ClusterIP",
            session_affinity=rng.random() < 0.3,
            external_local=rng.random() < 0.3,
        )
        endpoints = [
            EndpointInfo(f"10.244.{n}.{j}", node_name=f"pi-{n}", ready=rng.random() < 0.8)
            for j in rng.sample(range(2, 6), rng.randint(0, 3))
            for n in [rng.randint(1, 2)]
        ]
        out[f"default/s{i}"] = (service, endpoints)
    return out


@pytest.mark.parametrize("seed", range(20))
def test_random_update_sequences_reach_the_desired_state(seed):
    rng = random.Random(seed)
    current = ruleset(_random_services(rng))
    nf = FakeNetfilter()
    nf.apply(ops.recreate(current))
    for _ in range(6):
        # Rebuild only some services, reusing the other fragments as the proxier does.
        target = _random_services(rng)
        fragments = dict(current.fragments)
        for key in list(fragments):
            if key != rules.BASE and key not in target:
                del fragments[key]
        for key, (service, endpoints) in target.items():
            fragments[key] = rules.service_fragment(service, rules.merge_endpoints([endpoints]), CFG)
        nxt = Ruleset("picluster", fragments)
        nf.apply(ops.update(current, nxt))
        assert nf.dump("picluster") == nxt.state()
        current = nxt

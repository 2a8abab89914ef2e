import pytest

from master.api import admission, core, helpers, meta, timefmt
from master.api.core import NodeCondition, Pod, PodCondition, Toleration


def pod(**status: object) -> Pod:
    return Pod(metadata=meta.ObjectMeta(name="p", namespace="ns", uid="u1"),
               spec=core.PodSpec(containers=[core.Container(name="c", image="i")]),
               status=core.PodStatus(**status))  # type: ignore[arg-type]


def test_keys_and_names() -> None:
    p = pod()
    assert helpers.meta_key(p) == "ns/p"
    assert helpers.meta_key(core.Node(metadata=meta.ObjectMeta(name="pi-1"))) == "pi-1"
    assert helpers.split_meta_key("ns/p") == ("ns", "p")
    assert helpers.split_meta_key("pi-1") == ("", "pi-1")
    name = helpers.generate_name("web-")
    assert name.startswith("web-") and len(name) == 9
    assert set(name[4:]) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert len(helpers.generate_name("x" * 70)) == 63
    assert helpers.new_uid() != helpers.new_uid()


def test_controller_refs() -> None:
    rs = core.ConfigMap(metadata=meta.ObjectMeta(name="rs", uid="rs-uid"))
    ref = helpers.new_controller_ref(rs)
    assert (ref.kind, ref.api_version, ref.controller, ref.block_owner_deletion) == ("ConfigMap", "v1", True, True)
    p = pod()
    p.metadata.owner_references = [meta.OwnerReference(api_version="v1", kind="X", name="x", uid="other"), ref]
    assert helpers.controller_ref(p) == ref
    assert helpers.is_controlled_by(p, rs)
    assert helpers.controller_ref(pod()) is None


def test_set_pod_condition_returns_new_objects() -> None:
    p = pod()
    ready = helpers.set_pod_condition(p, PodCondition(type="Ready", status="True"), now="2026-01-01T00:00:00Z")
    assert p.status.conditions == [] and ready is not p
    assert helpers.is_pod_ready(ready) and not helpers.is_pod_ready(p)
    cond = helpers.get_pod_condition(ready, "Ready")
    assert cond is not None and cond.last_transition_time == "2026-01-01T00:00:00Z"
    same = helpers.set_pod_condition(ready, PodCondition(type="Ready", status="True"), now="2026-01-01T00:00:05Z")
    assert same is ready
    flipped = helpers.set_pod_condition(ready, PodCondition(type="Ready", status="False"), now="2026-01-01T00:00:09Z")
    c2 = helpers.get_pod_condition(flipped, "Ready")
    assert c2 is not None and c2.last_transition_time == "2026-01-01T00:00:09Z"
    assert helpers.is_pod_ready(ready)


def test_pod_availability_and_phase() -> None:
    t0 = timefmt.to_epoch("2026-01-01T00:00:00Z")
    p = helpers.set_pod_condition(pod(), PodCondition(type="Ready", status="True", last_transition_time="2026-01-01T00:00:00Z"),
                                  now="x")
    assert helpers.is_pod_available(p, 0, t0)
    assert not helpers.is_pod_available(p, 10, t0 + 5)
    assert helpers.is_pod_available(p, 10, t0 + 10)
    assert helpers.is_pod_active(p) and not helpers.is_pod_terminal(p)
    assert helpers.is_pod_terminal(pod(phase="Succeeded"))
    gone = pod()
    gone.metadata.deletion_timestamp = "2026-01-01T00:00:00Z"
    assert not helpers.is_pod_active(gone)


def test_node_conditions_heartbeat() -> None:
    n = core.Node(metadata=meta.ObjectMeta(name="pi-1"))
    ready = helpers.set_node_condition(n, NodeCondition(type="Ready", status="True"), now="2026-01-01T00:00:00Z")
    c = helpers.get_node_condition(ready, "Ready")
    assert c is not None and c.last_heartbeat_time == "2026-01-01T00:00:00Z"
    assert helpers.is_node_ready(ready) and not helpers.is_node_ready(n)


def test_labels_annotations_are_copied() -> None:
    p = pod()
    q = helpers.with_labels(helpers.with_annotations(p, {"a": "1"}), {"l": "2"})
    assert p.metadata.labels == {} and p.metadata.annotations == {}
    assert q.metadata.labels == {"l": "2"} and q.metadata.annotations == {"a": "1"}


@pytest.mark.parametrize(
    ("tolerations", "added"),
    [
        pytest.param([], [admission.TAINT_NOT_READY, admission.TAINT_UNREACHABLE], id="none"),
        pytest.param([Toleration(key=admission.TAINT_NOT_READY, operator="Exists", effect="NoExecute", toleration_seconds=5)],
                     [admission.TAINT_UNREACHABLE], id="not-ready-given"),
        pytest.param([Toleration(operator="Exists")], [], id="tolerates-everything"),
        pytest.param([Toleration(key=admission.TAINT_UNREACHABLE, operator="Exists", effect="NoSchedule")],
                     [admission.TAINT_NOT_READY, admission.TAINT_UNREACHABLE], id="other-effect"),
    ],
)
def test_default_toleration_seconds(tolerations: list[Toleration], added: list[str]) -> None:
    p = pod()
    p.spec.tolerations = list(tolerations)
    out = admission.default_toleration_seconds(p)
    new = out.spec.tolerations[len(tolerations):]
    assert [t.key for t in new] == added
    assert all(t.toleration_seconds == 300 and t.effect == "NoExecute" and t.operator == "Exists" for t in new)
    assert p.spec.tolerations == tolerations


def test_default_service_account() -> None:
    out = admission.default_service_account(pod())
    assert (out.spec.service_account_name, out.spec.service_account) == ("default", "default")


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        pytest.param("1970-01-01T00:00:00Z", 0.0, id="zulu"),
        pytest.param("1970-01-01T01:00:00+01:00", 0.0, id="offset"),
        pytest.param("1970-01-01T00:00:01.500000Z", 1.5, id="micro"),
    ],
)
def test_timefmt(text: str, epoch: float) -> None:
    assert timefmt.to_epoch(text) == epoch


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        pytest.param("1970-01-01T00:00:02Z", 2.0, id="valid"),
        pytest.param(None, -1.0, id="missing"),
        pytest.param("", -1.0, id="empty"),
        pytest.param("yesterday", -1.0, id="unparseable"),
        pytest.param("2026-01-01T00:00:00", -1.0, id="no-zone"),
    ],
)
def test_timefmt_to_epoch_or(text: str | None, epoch: float) -> None:
    assert timefmt.to_epoch_or(text, -1.0) == epoch
    assert timefmt.to_epoch_or(text) == (epoch if epoch >= 0 else 0.0)


def test_timefmt_format_and_errors() -> None:
    assert timefmt.format_time(0) == "1970-01-01T00:00:00Z"
    assert timefmt.format_micro_time(1.5) == "1970-01-01T00:00:01.500000Z"
    assert timefmt.now(0) == "1970-01-01T00:00:00Z"
    for bad in ("yesterday", "2026-01-01", "2026-01-01T00:00:00"):
        with pytest.raises(timefmt.TimeFormatError):
            timefmt.parse_time(bad)

from __future__ import annotations

import msgspec
import pytest

from agent.kubelet import nodeinfo
from agent.kubelet.cri import RuntimeCondition, RuntimeStatus, RuntimeVersion
from agent.kubelet.nodeinfo import ConditionTracker, NodeSettings
from hw.board.fake import healthy_readings, pi4_info
from master.api.core import NodeStatus
from master.util.clock import FakeClock

READY = RuntimeStatus((RuntimeCondition("RuntimeReady", True), RuntimeCondition("NetworkReady", True)))


@pytest.mark.parametrize(
    ("machine", "arch"),
    [("x86_64", "amd64"), ("aarch64", "arm64"), ("armv7l", "arm"), ("armv6l", "arm"), ("riscv64", "riscv64")],
)
def test_architecture(machine: str, arch: str) -> None:
    assert nodeinfo.architecture(machine) == arch


def test_labels_on_a_pi() -> None:
    labels = nodeinfo.node_labels("pi-1", pi4_info())
    assert labels == {
        "beta.kubernetes.io/arch": "arm64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "arm64",
        "kubernetes.io/hostname": "pi-1",
        "kubernetes.io/os": "linux",
        "picluster.io/model": "Raspberry-Pi-4-Model-B-Rev-1.4",
    }


@pytest.mark.parametrize(
    ("model", "label"),
    [
        pytest.param("unknown", None, id="no-model"),
        pytest.param(
            "Raspberry Pi Compute Module 4 Rev 1.0", "Raspberry-Pi-Compute-Module-4-Rev-1.0", id="cm4"
        ),
        pytest.param("Raspberry Pi 5 Model B Rev 1.0 (8GB) " + "x" * 80, None, id="long"),
        pytest.param("  (weird)  ", "weird", id="trimmed"),
    ],
)
def test_model_label_values(model: str, label: str | None) -> None:
    value = nodeinfo.node_labels("n", pi4_info(model=model, machine="x86_64")).get(nodeinfo.MODEL_LABEL)
    if label is None and model != "unknown":
        assert value is not None and len(value) <= 63 and value[-1].isalnum()
    else:
        assert value == label


def test_capacity_and_allocatable() -> None:
    info, readings = (
        pi4_info(memory_total_bytes=3904220 * 1024),
        healthy_readings(disk_total_bytes=1000 << 20),
    )
    settings = NodeSettings()
    assert nodeinfo.capacity(info, readings, settings) == {
        "cpu": "4",
        "ephemeral-storage": "1000Mi",
        "memory": "3904220Ki",
        "pods": "110",
    }
    alloc = nodeinfo.allocatable(info, readings, settings)
    assert alloc["cpu"] == "3900m" and alloc["memory"] == "3670748Ki" and alloc["pods"] == "110"
    assert alloc["ephemeral-storage"] == "900Mi"
    tiny = nodeinfo.allocatable(
        pi4_info(cpu_count=1, memory_total_bytes=100 << 20), readings, NodeSettings(reserved_cpu_milli=2000)
    )
    assert (tiny["cpu"], tiny["memory"]) == ("0", "0")


def test_system_info_and_addresses_fit_the_node_status() -> None:
    si = nodeinfo.system_info(pi4_info(), RuntimeVersion("containerd", "1.6.20", "v1"), NodeSettings())
    status = NodeStatus(node_info=si, addresses=nodeinfo.addresses("10.77.0.11", "pi-1"))
    wire = msgspec.json.decode(msgspec.json.encode(status))
    assert wire["nodeInfo"]["containerRuntimeVersion"] == "containerd://1.6.20"
    assert wire["nodeInfo"]["architecture"] == "arm64" and wire["nodeInfo"]["operatingSystem"] == "linux"
    assert wire["nodeInfo"]["kubeletVersion"].startswith("v1.32.0+picluster.")
    assert wire["nodeInfo"]["osImage"] == "Debian GNU/Linux 12 (bookworm)"
    assert wire["addresses"] == [
        {"type": "InternalIP", "address": "10.77.0.11"},
        {"type": "Hostname", "address": "pi-1"},
    ]


def test_kubelet_version_is_semver() -> None:
    assert nodeinfo.KUBELET_VERSION.startswith("v1.32.0+picluster.")


@pytest.mark.parametrize(
    ("changes", "memory", "disk", "pid"),
    [
        pytest.param({}, False, False, False, id="healthy"),
        pytest.param({"memory_available_bytes": 99 << 20}, True, False, False, id="memory"),
        pytest.param({"memory_available_bytes": 100 << 20}, False, False, False, id="memory-at-threshold"),
        pytest.param({"disk_available_bytes": 3_000_000_000}, False, True, False, id="disk-space"),
        pytest.param({"disk_inodes_free": 90_000}, False, True, False, id="inodes"),
        pytest.param({"pids_max": 1000, "pids_in_use": 950}, False, False, True, id="pids"),
    ],
)
def test_observe_pressure(changes: dict[str, int], memory: bool, disk: bool, pid: bool) -> None:
    p = nodeinfo.observe_pressure(healthy_readings(**changes), NodeSettings())
    assert (p.memory, p.disk, p.pid) == (memory, disk, pid)


def test_conditions_on_a_healthy_node() -> None:
    clock = FakeClock(start=1_700_000_000.0)
    conds = ConditionTracker(clock=clock).update(healthy_readings(), READY)
    assert [(c.type, c.status, c.reason, c.message) for c in conds] == [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]
    assert all(c.last_heartbeat_time == c.last_transition_time == "2023-11-14T22:13:20Z" for c in conds)


async def test_pressure_holds_for_the_transition_period_and_transitions_are_kept() -> None:
    clock = FakeClock(start=1_700_000_000.0)
    tracker = ConditionTracker(NodeSettings(pressure_transition_period=300), clock)
    tracker.update(healthy_readings(), READY)
    await clock.advance(10)
    mem = tracker.update(healthy_readings(memory_available_bytes=50 << 20), READY)[0]
    assert (mem.status, mem.reason) == ("True", "KubeletHasInsufficientMemory")
    assert mem.last_transition_time == "2023-11-14T22:13:30Z"
    await clock.advance(299)
    mem = tracker.update(healthy_readings(), READY)[0]
    assert mem.status == "True" and mem.last_transition_time == "2023-11-14T22:13:30Z"
    assert mem.last_heartbeat_time == "2023-11-14T22:18:29Z"
    await clock.advance(1)
    mem = tracker.update(healthy_readings(), READY)[0]
    assert (mem.status, mem.last_transition_time) == ("False", "2023-11-14T22:18:30Z")


@pytest.mark.parametrize(
    ("runtime", "error", "message"),
    [
        pytest.param(None, "", "container runtime is down", id="down"),
        pytest.param(
            None, "connection refused", "container runtime is down: connection refused", id="down-why"
        ),
        pytest.param(
            RuntimeStatus(
                (
                    RuntimeCondition("RuntimeReady", True),
                    RuntimeCondition(
                        "NetworkReady", False, "NetworkPluginNotReady", "cni plugin not initialized"
                    ),
                )
            ),
            "",
            "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
            "message:cni plugin not initialized",
            id="no-cni",
        ),
        pytest.param(
            RuntimeStatus(()),
            "",
            "container runtime not ready: RuntimeReady=false reason: message:condition not reported; "
            "container runtime network not ready: NetworkReady=false reason: message:condition not reported",
            id="nothing-reported",
        ),
    ],
)
def test_not_ready(runtime: RuntimeStatus | None, error: str, message: str) -> None:
    ready = ConditionTracker(clock=FakeClock()).update(healthy_readings(), runtime, runtime_error=error)[-1]
    assert (ready.type, ready.status, ready.reason, ready.message) == (
        "Ready",
        "False",
        "KubeletNotReady",
        message,
    )


def test_extra_not_ready_reasons() -> None:
    ready = ConditionTracker(clock=FakeClock()).update(
        healthy_readings(), READY, extra_not_ready=("PLEG is not healthy",)
    )[-1]
    assert (ready.status, ready.message) == ("False", "PLEG is not healthy")

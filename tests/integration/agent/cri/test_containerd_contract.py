"""ContainerdRuntime on a real containerd (a testbed node) against the Runtime contract."""

from tests.unit.agent.kubelet.cri_contract.contract import RuntimeContract


class TestContainerdRuntime(RuntimeContract):
    pass

import pytest

pytest.register_assert_rewrite("tests.unit.agent.kubelet.cri_contract.contract")

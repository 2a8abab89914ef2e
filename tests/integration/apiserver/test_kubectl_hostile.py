"""Stock kubectl doing what users do with odd input, against a real ``pictl master``."""

from __future__ import annotations

import uuid

import pytest

from tests.fixtures.apiserver import MasterProcess

pytestmark = pytest.mark.slow

TOKEN_REVIEW = "apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec: {{token: {token}}}\n"
SSAR = ("apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\n"
        "spec: {resourceAttributes: {verb: get, resource: pods}}\n")


@pytest.mark.parametrize("validate", ["--validate=true", "--validate=false"])
def test_reviews_from_files(master_process: MasterProcess, validate: str) -> None:
    # kubectl validates a kind without a PATCH (no fieldValidation) itself, and first lists the
    # CRDs to see whether it is one: that list was a 404, so `kubectl create -f` of a review
    # failed with "failed to check CRD" unless --validate=false.
    token = master_process.kubectl("create", "token", "default").stdout.strip()
    out = master_process.kubectl("create", validate, "-f", "-", "-o", "jsonpath={.status.user.username}",
                                 input=TOKEN_REVIEW.format(token=token)).stdout
    assert out == "system:serviceaccount:default:default"
    out = master_process.kubectl("create", validate, "-f", "-", "-o", "jsonpath={.status.authenticated}",
                                 input=TOKEN_REVIEW.format(token="garbage")).stdout
    assert out == "false"
    out = master_process.kubectl("create", validate, "-f", "-", "-o", "jsonpath={.status.allowed}", input=SSAR).stdout
    assert out == "true"


def test_there_are_no_custom_resource_definitions(master_process: MasterProcess) -> None:
    assert master_process.kubectl("get", "crd", "-o", "name").stdout == ""
    r = master_process.kubectl("get", "crd", "widgets.example.com", check=False)
    assert r.returncode == 1 and "NotFound" in r.stderr
    r = master_process.kubectl("delete", "crd", "widgets.example.com", check=False)
    assert r.returncode == 1 and "MethodNotAllowed" in r.stderr


def test_delete_dry_run_server_keeps_the_object(master_process: MasterProcess) -> None:
    # kubectl sends dryRun in the DeleteOptions body: it was ignored and the object deleted.
    name = f"dry-{uuid.uuid4().hex[:6]}"
    master_process.kubectl("create", "configmap", name, "--from-literal=a=b")
    out = master_process.kubectl("delete", "configmap", name, "--dry-run=server").stdout
    assert out == f'configmap "{name}" deleted (server dry run)\n'
    assert master_process.kubectl("get", "configmap", name, "-o", "name").stdout == f"configmap/{name}\n"
    master_process.kubectl("delete", "configmap", name)


def test_scale_beyond_int32_is_refused(master_process: MasterProcess) -> None:
    name = f"big-{uuid.uuid4().hex[:6]}"
    master_process.kubectl("create", "deployment", name, "--image=busybox", "--replicas=0")
    r = master_process.kubectl("scale", f"deployment/{name}", "--replicas=3000000000", check=False)
    assert r.returncode == 1 and "BadRequest" in r.stderr and "spec.replicas" in r.stderr, r.stderr
    out = master_process.kubectl("get", "deployment", name, "-o", "jsonpath={.spec.replicas}").stdout
    assert out == "0"
    master_process.kubectl("delete", "deployment", name)

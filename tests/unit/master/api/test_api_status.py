import json

import pytest

from master.api import codec, field, status
from master.api.meta import Status


@pytest.mark.parametrize(
    ("st", "code", "reason", "message"),
    [
        pytest.param(status.not_found("pods", "x"), 404, "NotFound", 'pods "x" not found', id="not-found"),
        pytest.param(status.not_found("deployments", "web", group="apps"), 404, "NotFound",
                     'deployments.apps "web" not found', id="not-found-group"),
        pytest.param(status.already_exists("pods", "x"), 409, "AlreadyExists", 'pods "x" already exists', id="exists"),
        pytest.param(status.conflict("pods", "x"), 409, "Conflict",
                     'Operation cannot be fulfilled on pods "x": the object has been modified; please apply your '
                     "changes to the latest version and try again", id="conflict"),
        pytest.param(status.bad_request("nope"), 400, "BadRequest", "nope", id="bad-request"),
        pytest.param(status.unauthorized(), 401, "Unauthorized", "Unauthorized", id="unauthorized"),
        pytest.param(status.forbidden("pods", "x", 'User "bob" cannot get resource "pods"'), 403, "Forbidden",
                     'pods "x" is forbidden: User "bob" cannot get resource "pods"', id="forbidden"),
        pytest.param(status.forbidden("pods", "", "no"), 403, "Forbidden", "pods is forbidden: no", id="forbidden-list"),
        pytest.param(status.method_not_allowed("pods/log", "create"), 405, "MethodNotAllowed",
                     'create is not supported on resources of kind "pods/log"', id="method"),
        pytest.param(status.too_old_resource_version(5, 10), 410, "Expired", "too old resource version: 5 (10)", id="expired"),
        pytest.param(status.gone("gone"), 410, "Gone", "gone", id="gone"),
        pytest.param(status.too_large("limit is 3145728"), 413, "RequestEntityTooLarge",
                     "Request entity too large: limit is 3145728", id="too-large"),
        pytest.param(status.too_many_requests("slow down", retry_after_seconds=1), 429, "TooManyRequests", "slow down",
                     id="too-many"),
        pytest.param(status.internal_error("boom"), 500, "InternalError", "Internal error occurred: boom", id="internal"),
        pytest.param(status.timeout("request did not complete within 60s"), 504, "Timeout",
                     "Timeout: request did not complete within 60s", id="timeout"),
        pytest.param(status.service_unavailable("down"), 503, "ServiceUnavailable", "down", id="unavailable"),
    ],
)
def test_builders(st: Status, code: int, reason: str, message: str) -> None:
    assert (st.code, st.reason, st.message, st.status) == (code, reason, message, "Failure")
    doc = json.loads(codec.encode(st))
    assert doc["kind"] == "Status" and doc["apiVersion"] == "v1" and doc["metadata"] == {}


def test_unsupported_media_type_names_the_type() -> None:
    st = status.unsupported_media_type("text/plain")
    assert st.code == 415 and '(got "text/plain")' in st.message


def test_invalid_renders_like_kubernetes() -> None:
    errs = [
        field.required("spec.containers[0].image"),
        field.invalid("metadata.name", "Foo", "must be lowercase"),
        field.not_supported("spec.restartPolicy", "Sometimes", ("Always", "OnFailure", "Never")),
    ]
    st = status.invalid("Pod", "Foo", errs)
    assert st.code == 422 and st.reason == "Invalid"
    assert st.message == (
        'Pod "Foo" is invalid: [spec.containers[0].image: Required value, metadata.name: Invalid value: "Foo": '
        'must be lowercase, spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
        '"Never", "OnFailure"]'
    )
    assert st.details is not None
    assert [(c.reason, c.field) for c in st.details.causes] == [
        ("FieldValueRequired", "spec.containers[0].image"),
        ("FieldValueInvalid", "metadata.name"),
        ("FieldValueNotSupported", "spec.restartPolicy"),
    ]
    assert st.details.causes[0].message == "Required value"
    one = status.invalid("Deployment", "web", [field.required("spec.selector")], group="apps")
    assert one.message == 'Deployment.apps "web" is invalid: spec.selector: Required value'
    assert one.details is not None and one.details.group == "apps"


@pytest.mark.parametrize(
    ("err", "text"),
    [
        pytest.param(field.required("a.b"), "a.b: Required value", id="required"),
        pytest.param(field.required("a", "detail"), "a: Required value: detail", id="required-detail"),
        pytest.param(field.invalid("a", 5, "bad"), "a: Invalid value: 5: bad", id="invalid-int"),
        pytest.param(field.invalid("a", None, "bad"), "a: Invalid value: null: bad", id="invalid-null"),
        pytest.param(field.duplicate("a[1].name", "x"), 'a[1].name: Duplicate value: "x"', id="duplicate"),
        pytest.param(field.forbidden("spec", "no"), "spec: Forbidden: no", id="forbidden"),
        pytest.param(field.not_found("v[0].name", "x"), 'v[0].name: Not found: "x"', id="not-found"),
        pytest.param(field.too_many("a", 5, 3), "a: Too many: 5: must have at most 3 items", id="too-many"),
        pytest.param(field.too_long("a", 10), "a: Too long: may not be more than 10 bytes", id="too-long"),
    ],
)
def test_field_error_rendering(err: field.FieldError, text: str) -> None:
    assert str(err) == text


def test_status_error_carries_status() -> None:
    err = status.StatusError(status.not_found("pods", "x"))
    assert err.code == 404 and err.reason == "NotFound" and str(err) == 'pods "x" not found'

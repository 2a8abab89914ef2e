import pytest

from master.api import validation


@pytest.mark.parametrize(
    ("fn", "value", "ok"),
    [
        pytest.param(validation.is_dns1123_label, "web-1", True, id="label-ok"),
        pytest.param(validation.is_dns1123_label, "Web", False, id="label-upper"),
        pytest.param(validation.is_dns1123_label, "a.b", False, id="label-dot"),
        pytest.param(validation.is_dns1123_label, "-a", False, id="label-dash"),
        pytest.param(validation.is_dns1123_label, "a" * 64, False, id="label-long"),
        pytest.param(validation.is_dns1123_subdomain, "a.b-c.d", True, id="subdomain-ok"),
        pytest.param(validation.is_dns1123_subdomain, "a..b", False, id="subdomain-empty-part"),
        pytest.param(validation.is_dns1123_subdomain, "a" * 254, False, id="subdomain-long"),
        pytest.param(validation.is_dns1035_label, "svc-1", True, id="1035-ok"),
        pytest.param(validation.is_dns1035_label, "1svc", False, id="1035-digit-first"),
        pytest.param(validation.is_qualified_name, "app", True, id="qn-plain"),
        pytest.param(validation.is_qualified_name, "example.com/App_1", True, id="qn-prefixed"),
        pytest.param(validation.is_qualified_name, "/a", False, id="qn-empty-prefix"),
        pytest.param(validation.is_qualified_name, "a/b/c", False, id="qn-two-slashes"),
        pytest.param(validation.is_qualified_name, "Example.com/a", False, id="qn-upper-prefix"),
        pytest.param(validation.is_qualified_name, "a" * 64, False, id="qn-long"),
        pytest.param(validation.is_qualified_name, "", False, id="qn-empty"),
        pytest.param(validation.is_valid_label_value, "", True, id="value-empty"),
        pytest.param(validation.is_valid_label_value, "v1.2_3-x", True, id="value-ok"),
        pytest.param(validation.is_valid_label_value, "a b", False, id="value-space"),
        pytest.param(validation.is_valid_label_value, "a" * 64, False, id="value-long"),
        pytest.param(validation.is_env_var_name, "MY_VAR.x-1", True, id="env-ok"),
        pytest.param(validation.is_env_var_name, "1VAR", False, id="env-digit"),
        pytest.param(validation.is_env_var_name, "..x", False, id="env-dots"),
        pytest.param(validation.is_config_map_key, "app.conf", True, id="key-ok"),
        pytest.param(validation.is_config_map_key, "a/b", False, id="key-slash"),
        pytest.param(validation.is_config_map_key, "..", False, id="key-dotdot"),
        pytest.param(validation.is_port_name, "http", True, id="port-ok"),
        pytest.param(validation.is_port_name, "a--b", False, id="port-double-dash"),
        pytest.param(validation.is_port_name, "8080", False, id="port-no-letter"),
        pytest.param(validation.is_port_name, "a" * 16, False, id="port-long"),
        pytest.param(validation.is_ip, "10.0.0.1", True, id="ip4"),
        pytest.param(validation.is_ip, "::1", True, id="ip6"),
        pytest.param(validation.is_ip, "10.0.0", False, id="ip-bad"),
        pytest.param(validation.is_http_header_name, "X-Header", True, id="header-ok"),
        pytest.param(validation.is_http_header_name, "X Header", False, id="header-space"),
    ],
)
def test_syntax_checks(fn, value: str, ok: bool) -> None:  # type: ignore[no-untyped-def]
    assert (fn(value) == []) is ok


def test_generate_name_may_end_with_dash() -> None:
    assert validation.is_dns1123_subdomain("web-", True) == []
    assert validation.is_dns1123_subdomain("web-", False) != []


def test_messages_match_kubernetes() -> None:
    assert validation.is_dns1123_label("A") == [
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
        "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    ]
    errs = validation.validate_port(70000, "spec.ports[0].port")
    assert str(errs[0]) == "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive"


def test_labels_and_annotations() -> None:
    errs = validation.validate_labels({"a b": "x", "ok": "bad value"}, "metadata.labels")
    assert [e.field for e in errs] == ["metadata.labels", "metadata.labels[ok]"]
    errs = validation.validate_annotations({"a": "x" * (256 * 1024)}, "metadata.annotations")
    assert [e.type.reason for e in errs] == ["FieldValueTooLong"]


@pytest.mark.parametrize(
    ("opts", "fields"),
    [
        pytest.param({}, [], id="empty"),
        pytest.param({"propagationPolicy": "Foreground", "gracePeriodSeconds": 0}, [], id="ok"),
        pytest.param({"propagationPolicy": "Sideways"}, ["propagationPolicy"], id="policy"),
        pytest.param({"propagationPolicy": "Orphan", "orphanDependents": True}, ["propagationPolicy"], id="both"),
        pytest.param({"dryRun": ["Some"]}, ["dryRun[0]"], id="dry-run"),
    ],
)
def test_delete_options(opts: dict[str, object], fields: list[str]) -> None:
    from master.api import codec
    from master.api.meta import DeleteOptions

    got = validation.validate_delete_options(codec.convert(opts, DeleteOptions))
    assert [e.field for e in got] == fields

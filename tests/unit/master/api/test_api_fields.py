import pytest

from master.api import fields
from master.api.fields import FieldSelectorError


@pytest.mark.parametrize(
    ("text", "attrs", "want"),
    [
        pytest.param("", {}, True, id="empty"),
        pytest.param("metadata.name=x", {"metadata.name": "x"}, True, id="eq"),
        pytest.param("metadata.name==x", {"metadata.name": "y"}, False, id="double-eq"),
        pytest.param("status.phase!=Running", {"status.phase": "Pending"}, True, id="neq"),
        pytest.param("spec.nodeName=", {"spec.nodeName": ""}, True, id="unscheduled"),
        pytest.param("spec.nodeName=pi-1,status.phase=Running", {"spec.nodeName": "pi-1", "status.phase": "Running"},
                     True, id="and"),
        pytest.param(r"metadata.name=a\,b", {"metadata.name": "a,b"}, True, id="escaped-comma"),
    ],
)
def test_parse_and_match(text: str, attrs: dict[str, str], want: bool) -> None:
    assert fields.parse(text).matches(attrs) is want


@pytest.mark.parametrize(
    "text",
    [pytest.param("abc", id="no-operator"), pytest.param("=x", id="no-field"),
     pytest.param("a=b=c", id="unescaped-equals"), pytest.param(r"a=b\x", id="bad-escape")],
)
def test_parse_errors(text: str) -> None:
    with pytest.raises(FieldSelectorError):
        fields.parse(text)


def test_unsupported_and_render() -> None:
    sel = fields.parse(r"spec.nodeName=pi-1,spec.foo!=a\=b")
    assert sel.unsupported({"spec.nodeName"}) == ["spec.foo"]
    assert str(sel) == r"spec.nodeName=pi-1,spec.foo!=a\=b"
    assert sel.exact_value("spec.nodeName") == "pi-1"
    assert sel.exact_value("spec.foo") is None

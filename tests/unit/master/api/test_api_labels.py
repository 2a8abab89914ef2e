import pytest

from master.api import labels
from master.api.labels import SelectorError
from master.api.meta import LabelSelector, LabelSelectorRequirement


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        pytest.param("", "", id="empty"),
        pytest.param("app", "app", id="exists"),
        pytest.param("!canary", "!canary", id="does-not-exist"),
        pytest.param("app=web", "app=web", id="equals"),
        pytest.param("app==web", "app==web", id="double-equals"),
        pytest.param("app!=web", "app!=web", id="not-equals"),
        pytest.param("app=", "app=", id="equals-empty"),
        pytest.param("tier in (web, api)", "tier in (api,web)", id="in"),
        pytest.param("tier notin (web)", "tier notin (web)", id="notin"),
        pytest.param("gen>5", "gen>5", id="gt"),
        pytest.param("gen < 5", "gen<5", id="lt"),
        pytest.param("z=1, a=2,  example.com/k in (x)", "a=2,example.com/k in (x),z=1", id="sorted-by-key"),
    ],
)
def test_parse_and_render(text: str, rendered: str) -> None:
    assert str(labels.parse(text)) == rendered


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("a in ()", "values set can't be empty", id="empty-set"),
        pytest.param("a in (b", "expected: ')'", id="unclosed"),
        pytest.param("!", "expected: identifier", id="bang-alone"),
        pytest.param("a b", "expected: [!=, ==, =, >, <, in, notin]", id="no-operator"),
        pytest.param("a,", "expected: identifier", id="trailing-comma"),
        pytest.param(",a", "expected: ! or identifier", id="leading-comma"),
        pytest.param("a=b=c", "expected: ',' or 'end of string'", id="double-operator"),
        pytest.param("a@=b", "name part must consist of", id="bad-key"),
        pytest.param("a=b@", "a valid label must be", id="bad-value"),
        pytest.param("a>b", "must be an integer", id="gt-not-integer"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        labels.parse(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "lbls", "want"),
    [
        pytest.param("", {}, True, id="empty-matches-all"),
        pytest.param("app=web", {"app": "web"}, True, id="eq"),
        pytest.param("app=web", {"app": "api"}, False, id="eq-miss"),
        pytest.param("app!=web", {}, True, id="neq-absent"),
        pytest.param("app!=web", {"app": "web"}, False, id="neq-hit"),
        pytest.param("tier in (a,b)", {"tier": "b"}, True, id="in"),
        pytest.param("tier notin (a,b)", {}, True, id="notin-absent"),
        pytest.param("tier notin (a,b)", {"tier": "a"}, False, id="notin-hit"),
        pytest.param("app", {"app": ""}, True, id="exists"),
        pytest.param("!app", {"app": ""}, False, id="not-exists"),
        pytest.param("gen>5", {"gen": "6"}, True, id="gt"),
        pytest.param("gen>5", {"gen": "x"}, False, id="gt-not-number"),
        pytest.param("gen<5", {}, False, id="lt-absent"),
        pytest.param("a=1,b=2", {"a": "1", "b": "2"}, True, id="and"),
        pytest.param("a=1,b=2", {"a": "1"}, False, id="and-miss"),
    ],
)
def test_matches(text: str, lbls: dict[str, str], want: bool) -> None:
    assert labels.parse(text).matches(lbls) is want


def test_structured_selectors() -> None:
    ls = LabelSelector(
        match_labels={"app": "web"},
        match_expressions=[
            LabelSelectorRequirement(key="tier", operator="In", values=["a", "b"]),
            LabelSelectorRequirement(key="canary", operator="DoesNotExist"),
        ],
    )
    sel = labels.from_label_selector(ls)
    assert str(sel) == "app=web,!canary,tier in (a,b)"
    assert sel.matches({"app": "web", "tier": "a"})
    assert not sel.matches({"app": "web", "tier": "a", "canary": "1"})
    assert labels.from_label_selector(None).matches({}) is False
    assert labels.from_label_selector(LabelSelector()).matches({"x": "y"}) is True
    assert labels.from_set({"a": "1"}).exact_value("a") == "1"
    with pytest.raises(SelectorError, match="is not a valid label selector operator"):
        labels.from_label_selector(LabelSelector(match_expressions=[LabelSelectorRequirement(key="a", operator="Bogus")]))
    back = labels.to_label_selector(labels.parse("app=web,tier in (a)"))
    assert back.match_labels == {"app": "web"}
    assert back.match_expressions[0].operator == "In"


@pytest.mark.parametrize(
    ("ls", "field"),
    [
        pytest.param(LabelSelector(match_expressions=[LabelSelectorRequirement(key="a", operator="In")]),
                     "spec.selector.matchExpressions[0].values", id="in-needs-values"),
        pytest.param(LabelSelector(match_expressions=[LabelSelectorRequirement(key="a", operator="Exists", values=["x"])]),
                     "spec.selector.matchExpressions[0].values", id="exists-forbids-values"),
        pytest.param(LabelSelector(match_expressions=[LabelSelectorRequirement(key="a", operator="Gt")]),
                     "spec.selector.matchExpressions[0].operator", id="bad-operator"),
        pytest.param(LabelSelector(match_labels={"a b": "c"}), "spec.selector.matchLabels", id="bad-key"),
    ],
)
def test_validate_label_selector(ls: LabelSelector, field: str) -> None:
    errs = labels.validate_label_selector(ls, "spec.selector")
    assert [e.field for e in errs] == [field]

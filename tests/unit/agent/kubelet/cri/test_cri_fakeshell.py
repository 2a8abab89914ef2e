import math

import pytest

from agent.kubelet.cri.fakeshell import Exit, Forever, Output, Program, Sleep, Status, parse


@pytest.mark.parametrize(
    ("argv", "want"),
    [
        pytest.param(
            ["sh", "-c", "echo hello; echo oops >&2; exit 3"],
            Program((Output("stdout", "hello\n"), Status(0), Output("stderr", "oops\n"), Status(0), Exit(3))),
            id="script",
        ),
        pytest.param(["sleep", "3600"], Program((Sleep(3600), Status(0))), id="sleep"),
        pytest.param(["sleep", "infinity"], Program((Sleep(math.inf), Status(0))), id="sleep-infinity"),
        pytest.param(
            ["sleep", "x"], Program((Output("stderr", "sleep: invalid number\n"), Status(1))), id="bad-sleep"
        ),
        pytest.param(["true"], Program((Status(0),)), id="true"),
        pytest.param(["/bin/false"], Program((Status(1),)), id="false-by-path"),
        pytest.param(["sh"], Program((Status(0),)), id="bare-shell-exits"),
        pytest.param([], Program((Forever(""),)), id="nothing-runs-forever"),
        pytest.param(["httpd", "-f"], Program((Forever("httpd"),)), id="server"),
        pytest.param(
            ["sh", "-c", "trap 'exit 0' TERM INT; sleep 3600 & wait"],
            Program((Sleep(3600), Status(0)), term_exit=0),
            id="trap",
        ),
        pytest.param(["sh", "-c", "trap 'exit 7' HUP"], Program(()), id="trap-other-signal"),
        pytest.param(
            ["sh", "-c", "echo -n a && echo 'b; c'"],
            Program((Output("stdout", "a"), Status(0), Output("stdout", "b; c\n"), Status(0))),
            id="quotes",
        ),
        pytest.param(["sh", "-c", "exit 300"], Program((Exit(44),)), id="exit-wraps"),
        pytest.param(
            ["sh", "-c", "echo 'unterminated"],
            Program((Output("stderr", "sh: syntax error\n"), Exit(2))),
            id="syntax-error",
        ),
        pytest.param(
            ["sh", "-c", "echo a\necho b"],
            Program((Output("stdout", "a\n"), Status(0), Output("stdout", "b\n"), Status(0))),
            id="lines",
        ),
    ],
)
def test_parse(argv: list[str], want: Program) -> None:
    assert parse(argv) == want


def test_variables_come_from_the_environment() -> None:
    prog = parse(["sh", "-c", "echo $NAME ${VERSION} $MISSING."], {"NAME": "web-1", "VERSION": "2"})
    assert prog.steps[0] == Output("stdout", "web-1 2 .\n")

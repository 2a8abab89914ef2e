"""``pictl testbed``: simulated Raspberry Pis on this machine (network namespaces on a bridge).

    pictl testbed up --nodes 3                    master + pi-1..pi-3, each with containerd and an agent
    pictl testbed status                          each node: address, power, LAN, processes
    pictl testbed exec pi-1 -- ip -br addr        a command inside pi-1's network namespace
    pictl testbed fault pi-2 power-off            break something (power-on, partition, heal, ...)
    pictl testbed kubeconfig                      path of the admin kubeconfig
    pictl testbed down                            remove every trace
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from hw.testbed import ACTIONS, DEFAULT_NAME, NodeStatus, ProcStatus, Registry, Testbed, TestbedError
from hw.testbed.layout import DEFAULT_ROOT
from master.cli.main import CLIError

__all__ = ["progress", "register"]

NAME_OPTION = typer.Option(DEFAULT_NAME, "--name", "-n", help="Testbed name (each has its own 10.77.K.0/24).")


def progress(console: Console, start: float | None = None) -> Callable[[str], None]:
    """A progress callback printing each step with the seconds since ``start`` (default: now)."""
    if start is None:
        start = time.monotonic()

    def report(message: str) -> None:
        console.print(f"[dim]{time.monotonic() - start:6.1f}s[/dim] {message}")

    return report


def _proc_cell(p: ProcStatus | None) -> str:
    if p is None:
        return "-"
    if p.running:
        state = "[green]ok[/green]" if p.ready in (True, None) else "[yellow]starting[/yellow]"
        return f"{state} (pid {p.pid})"
    if p.note:
        return f"[dim]{p.note}[/dim]"
    return "[red]down[/red]"


def _status_table(name: str, rows: list[NodeStatus]) -> Table:
    table = Table(title=f"testbed {name}", title_justify="left")
    for col in ("NODE", "ADDRESS", "POWER", "LAN", "CONTAINERD", "AGENT / MASTER"):
        table.add_column(col)
    for row in rows:
        comps = {c.component: c for c in row.components}
        table.add_row(
            row.name,
            row.ip,
            "[green]on[/green]" if row.powered else "[red]off[/red]",
            "[green]connected[/green]" if row.lan_connected else "[red]cut off[/red]",
            _proc_cell(comps.get("containerd")) if row.role == "node" else "-",
            _proc_cell(comps.get("master") if row.role == "master" else comps.get("agent")),
        )
    return table


def _fail(exc: TestbedError) -> CLIError:
    return CLIError(str(exc))


def register(app: typer.Typer) -> None:
    tb_app = typer.Typer(
        name="testbed",
        help="Simulated Raspberry Pis on this machine: up, down, status, exec, fault, kubeconfig, add-node.",
        no_args_is_help=True,
    )
    app.add_typer(tb_app, name="testbed")
    err = Console(stderr=True, highlight=False)
    out = Console(highlight=False)

    @tb_app.command("up")
    def up(
        nodes: int = typer.Option(3, "--nodes", min=1, max=244, help="How many simulated Pis."),
        name: str = NAME_OPTION,
        agents: bool = typer.Option(True, "--agents/--no-agents", help="Run an agent on each Pi."),
        master: bool = typer.Option(True, "--master/--no-master", help="Run the master at 10.77.K.10."),
        master_arg: list[str] = typer.Option(
            [], "--master-arg", help="Extra flag for pictl master (repeat; e.g. --master-arg=--v=2)."
        ),
        agent_arg: list[str] = typer.Option([], "--agent-arg", help="Extra flag for every pictl agent (repeat)."),
        image: list[Path] = typer.Option(
            [], "--image", help="Extra OCI image archive to import into every node (repeat)."
        ),
        wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait for every node to be Ready."),
    ) -> None:
        """Build NODES simulated Pis (pi-1..pi-N) and the master, on a LAN of their own."""
        for path in image:
            if not path.is_file():
                raise CLIError(f"--image {path}: no such file")
        try:
            tb = Testbed(name)
            tb.up(nodes, master=master, agents=agents, master_args=master_arg, agent_args=agent_arg,
                  images=image, wait_ready=wait, progress=progress(err))
            rows = tb.status()
        except TestbedError as exc:
            raise _fail(exc) from exc
        out.print(_status_table(name, rows))
        st = tb.state
        for comp, why in st.unavailable.items():
            err.print(f"[yellow]note:[/yellow] {comp}: {why}")
        if st.master and "master" not in st.unavailable:
            out.print(f"kubeconfig: {tb.kubeconfig}")

    @tb_app.command("down")
    def down(
        name: str = NAME_OPTION,
        all_: bool = typer.Option(False, "--all", help="Remove every testbed on this machine."),
    ) -> None:
        """Remove the testbed: processes, namespaces, links, mounts, files. Safe to repeat."""
        names = sorted(Registry(DEFAULT_ROOT).entries()) if all_ else [name]
        if all_ and DEFAULT_ROOT.is_dir():
            names = sorted(set(names) | {p.name for p in DEFAULT_ROOT.iterdir() if (p / "state.json").exists()})
        try:
            for n in names:
                Testbed(n).down(progress=progress(err))
        except TestbedError as exc:
            raise _fail(exc) from exc

    @tb_app.command("status")
    def status(name: str = NAME_OPTION) -> None:
        """Each simulated Pi: address, power, LAN, containerd and agent health."""
        try:
            tb = Testbed(name)
            rows = tb.status()
        except TestbedError as exc:
            raise _fail(exc) from exc
        out.print(_status_table(name, rows))

    @tb_app.command("list")
    def list_() -> None:
        """The testbeds on this machine and their LANs."""
        entries = Registry(DEFAULT_ROOT).entries()
        if not entries:
            out.print("no testbeds")
            return
        table = Table()
        for col in ("NAME", "LAN", "NODES", "STATE"):
            table.add_column(col)
        for tb_name, index in sorted(entries.items(), key=lambda kv: kv[1]):
            try:
                st = Testbed(tb_name).state
                count, phase = str(len([n for n in st.nodes if n != "master"])), st.phase
            except TestbedError:
                count, phase = "?", "missing"
            table.add_row(tb_name, f"10.77.{index}.0/24", count, phase)
        out.print(table)

    @tb_app.command(
        "exec",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def exec_(
        node: str = typer.Argument(..., help="pi-N or master."),
        cmd: list[str] = typer.Argument(..., help="The command (after --)."),
        name: str = NAME_OPTION,
    ) -> None:
        """Run a command inside a simulated Pi's network namespace: exec pi-1 -- ip addr."""
        try:
            proc = Testbed(name).exec(node, cmd, capture=False, timeout=None)
        except TestbedError as exc:
            raise _fail(exc) from exc
        raise typer.Exit(proc.returncode)

    @tb_app.command("fault")
    def fault(
        node: str = typer.Argument(..., help="pi-N or master."),
        action: str = typer.Argument(..., help=" | ".join(ACTIONS)),
        name: str = NAME_OPTION,
    ) -> None:
        """Inject or repair a fault: power-off, power-on, partition, heal, kill-agent, start-agent, ..."""
        if action not in ACTIONS:
            raise CLIError(f"unknown fault {action!r} (one of: {', '.join(ACTIONS)})")
        try:
            Testbed(name).fault(node, action)
        except TestbedError as exc:
            raise _fail(exc) from exc
        err.print(f"{node}: {action} done")

    @tb_app.command("kubeconfig")
    def kubeconfig(name: str = NAME_OPTION) -> None:
        """Print the path of the testbed cluster's admin kubeconfig."""
        try:
            path = Testbed(name).kubeconfig
        except TestbedError as exc:
            raise _fail(exc) from exc
        if not path.exists():
            raise CLIError(f"{path} does not exist yet (is the master up? pictl testbed status --name {name})")
        typer.echo(str(path))

    @tb_app.command("add-node")
    def add_node(
        name: str = NAME_OPTION,
        wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait for the new node to be Ready."),
    ) -> None:
        """Add one more simulated Pi (pi-N+1) to a running testbed."""
        try:
            node = Testbed(name).add_node(wait_ready=wait, progress=progress(err))
        except TestbedError as exc:
            raise _fail(exc) from exc
        out.print(f"{node.name} {node.ip}")

"""``Testbed``: build, inspect, break and remove a simulated Pi cluster on this machine.

::

    tb = Testbed("t1234")                                  # name -> its own 10.77.K.0/24
    tb.up(nodes=2, master=False, agents=False)             # netns + LAN + containerd + images
    tb.exec("pi-1", ["ip", "-br", "addr"])                 # a command inside pi-1
    tb.node("pi-1").containerd_address                     # unix://.../containerd.sock
    tb.fault("pi-1", "power-off"); tb.fault("pi-1", "power-on")
    tb.down()                                              # every trace gone; idempotent

Every method that changes the testbed holds its lock (``<dir>/.lock``) and records what it
did in ``state.json`` before returning, so other processes (``pictl testbed status`` while a
test runs) see the truth, and ``down`` can clean up after any crash: it kills by recorded
pid, by network namespace and by command line, and deletes namespaces and links by the
testbed's name prefix, whatever the state file says.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hw import images
from hw.testbed import cleanup, cni, containerd, control, lan, netns, procs
from hw.testbed.errors import (
    ComponentFailed,
    TestbedBusy,
    TestbedError,
    TestbedExists,
    TestbedNotFound,
    UnknownNode,
)
from hw.testbed.faults import ACTIONS
from hw.testbed.layout import DEFAULT_ROOT, NodePaths, TestbedPaths
from hw.testbed.naming import DEFAULT_NAME, MASTER, MAX_NODES, Plan, node_name, node_number, validate_name
from hw.testbed.registry import Registry
from hw.testbed.state import NodeRecord, ProcRecord, TestbedState, load_state, save_state

__all__ = ["Node", "NodeStatus", "ProcStatus", "Progress", "Testbed", "TestbedSettings"]

Progress = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


@dataclass(frozen=True)
class TestbedSettings:
    __test__ = False

    root: Path = DEFAULT_ROOT
    image_cache: Path | None = None
    containerd: containerd.ContainerdSettings = field(default_factory=containerd.ContainerdSettings)
    # How to run pictl for the master and agents; empty: the one installed with this package.
    pictl: tuple[str, ...] = ()
    master_ready_timeout: float = 90.0
    node_ready_timeout: float = 120.0
    lock_timeout: float = 120.0
    # Become the subreaper of the testbed's processes (see ``procs.adopt_orphans``); a
    # long-lived user of the library (a test session) then leaves no zombies behind.
    adopt_orphans: bool = True


@dataclass(frozen=True)
class Node:
    """Where a simulated Pi (or the master) lives."""

    name: str
    ip: str
    netns: str
    dir: Path

    @property
    def netns_path(self) -> Path:
        return netns.path(self.netns)

    @property
    def paths(self) -> NodePaths:
        return NodePaths(self.dir)

    @property
    def containerd_socket(self) -> Path:
        return self.paths.socket

    @property
    def containerd_address(self) -> str:
        return f"unix://{self.paths.socket}"


@dataclass(frozen=True)
class ProcStatus:
    component: str
    pid: int | None
    running: bool
    # None: no readiness check applies (or the process is not running).
    ready: bool | None = None
    note: str = ""


@dataclass(frozen=True)
class NodeStatus:
    name: str
    role: str
    ip: str
    powered: bool
    lan_connected: bool
    components: tuple[ProcStatus, ...]


class Testbed:
    __test__ = False

    def __init__(self, name: str = DEFAULT_NAME, settings: TestbedSettings | None = None) -> None:
        self.name = validate_name(name)
        self.settings = settings or TestbedSettings()
        self.paths = TestbedPaths(self.settings.root, name)
        self._registry = Registry(self.settings.root)
        self._mutex = threading.RLock()
        self._lock_depth = 0
        self._pictl = self.settings.pictl or control.pictl_command()
        if self.settings.adopt_orphans:
            procs.adopt_orphans()

    # ---- reading -------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"Testbed({self.name!r}, root={str(self.settings.root)!r})"

    def exists(self) -> bool:
        return self.paths.state.exists()

    @property
    def state(self) -> TestbedState:
        st = load_state(self.paths.state)
        if st is None:
            raise TestbedNotFound(f"no testbed named {self.name!r} (pictl testbed up --name {self.name})")
        return st

    @property
    def plan(self) -> Plan:
        return Plan(self.name, self.state.index)

    def node(self, name: str) -> Node:
        st = self.state
        rec = st.nodes.get(name)
        if rec is None:
            node_number(name)  # a malformed name gets the more helpful message
            known = ", ".join(_ordered(st.nodes)) or "none"
            raise UnknownNode(f"testbed {self.name!r} has no node {name!r} (nodes: {known})")
        return Node(name=name, ip=rec.ip, netns=rec.netns, dir=self.paths.node(name).dir)

    @property
    def nodes(self) -> list[Node]:
        """The simulated Pis (not the master), pi-1 first."""
        return [self.node(n) for n in _ordered(self.state.nodes) if n != MASTER]

    @property
    def master(self) -> Node:
        return self.node(MASTER)

    @property
    def server(self) -> str:
        return self.plan.server_url(control.SECURE_PORT)

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig the master wrote (server https://10.77.K.10:6443)."""
        st = self.state
        if not st.master or "master" in st.unavailable:
            raise TestbedError(f"testbed {self.name!r} runs no master, so it has no kubeconfig")
        return self.paths.admin_kubeconfig

    def status(self) -> list[NodeStatus]:
        procs.reap_adopted()
        st = self.state
        plan = Plan(self.name, st.index)
        out = []
        for name in _ordered(st.nodes):
            rec = st.nodes[name]
            paths = self.paths.node(name)
            comps = []
            wanted = ["master"] if name == MASTER else ["containerd", *(["agent"] if st.agents else [])]
            for comp in wanted:
                proc = rec.procs.get(comp)
                running = procs.alive(proc)
                ready: bool | None = None
                if running and comp == "containerd":
                    ready = containerd.cri_ready(paths, timeout=1.0)
                elif running and comp == "master":
                    ready = control.master_ready(plan, self.paths)
                note = st.unavailable.get(comp, "") if proc is None else ""
                comps.append(ProcStatus(comp, proc.pid if proc else None, running, ready, note))
            out.append(NodeStatus(
                name=name,
                role="master" if name == MASTER else "node",
                ip=rec.ip,
                powered=rec.powered,
                lan_connected=lan.is_connected(plan, name),
                components=tuple(comps),
            ))
        return out

    # ---- locking and state ---------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, *, create: bool = False, timeout: float | None = None) -> Iterator[None]:
        """Hold the testbed's file lock (other processes) and this object's mutex (other threads).

        Re-entrant within one thread, so public methods may call each other."""
        with self._mutex:
            if self._lock_depth:
                self._lock_depth += 1
                try:
                    yield
                finally:
                    self._lock_depth -= 1
                return
            if create:
                self.paths.dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.paths.lock, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:
                raise TestbedNotFound(f"no testbed named {self.name!r}") from None
            deadline = time.monotonic() + (self.settings.lock_timeout if timeout is None else timeout)
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                        os.close(fd)
                        raise TestbedBusy(
                            f"testbed {self.name!r} is busy (another pictl testbed command holds {self.paths.lock})"
                        ) from exc
                    time.sleep(0.05)
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0
                os.close(fd)

    def _save(self, st: TestbedState) -> None:
        save_state(self.paths.state, st)

    # ---- up ------------------------------------------------------------------------------

    def up(
        self,
        nodes: int = 3,
        *,
        master: bool = True,
        agents: bool = True,
        master_args: Sequence[str] = (),
        agent_args: Sequence[str] = (),
        images: Sequence[Path] = (),
        wait_ready: bool = True,
        progress: Progress = _quiet,
    ) -> Testbed:
        """Build the testbed: ``nodes`` simulated Pis, the master (when ``pictl master`` exists),
        and an agent on each Pi (when ``pictl agent`` exists and ``agents``).

        A testbed already up with the same node count is reused as it is; one left half-built
        by a crash is removed and rebuilt. ``images`` are extra archives imported into every
        node besides the standard ones. With ``wait_ready``, waits for every agent's Node to be
        Ready. On failure everything built so far is removed.
        """
        if not 1 <= nodes <= MAX_NODES:
            raise TestbedError(f"--nodes must be between 1 and {MAX_NODES}, not {nodes}")
        _require_tools(self.settings.containerd.binary)
        with self._locked(create=True):
            st = load_state(self.paths.state) if self.paths.state.exists() else None
            # After a reboot of this machine the state says "up" but the namespaces are gone.
            if st is not None and st.phase == "up" and all(netns.exists(r.netns) for r in st.nodes.values()):
                have = len([n for n in st.nodes if n != MASTER])
                if have == nodes and st.master == master and st.agents == agents:
                    progress(f"testbed {self.name} is already up ({have} nodes)")
                    return self
                raise TestbedExists(
                    f"testbed {self.name!r} is already up with {have} nodes "
                    f"(pictl testbed down --name {self.name} first, or add-node)"
                )
            leftover = st.index if st is not None else self._registry.get(self.name)
            if leftover is not None:
                progress(f"removing the remains of testbed {self.name}")
                self._teardown(leftover)
            try:
                self._build(nodes, master=master, agents=agents, master_args=list(master_args),
                            agent_args=list(agent_args), extra_images=list(images), progress=progress)
            except BaseException:
                progress("failed; removing what was built")
                with contextlib.suppress(Exception):
                    self._teardown(self._registry.get(self.name))
                with contextlib.suppress(Exception):
                    self._registry.release(self.name)
                raise
        if wait_ready:
            self.wait_nodes_ready(progress=progress)
        return self

    def _build(
        self,
        count: int,
        *,
        master: bool,
        agents: bool,
        master_args: list[str],
        agent_args: list[str],
        extra_images: list[Path],
        progress: Progress,
    ) -> None:
        t0 = time.monotonic()
        index = self._registry.allocate(self.name, busy=lambda i: lan.subnet_in_use(Plan(self.name, i)))
        plan = Plan(self.name, index)
        st = TestbedState(name=self.name, index=index, master=master, agents=agents,
                          master_args=master_args, agent_args=agent_args, created=time.time())
        st.images = [str(p) for p in extra_images]
        self._save(st)
        progress(f"testbed {self.name}: LAN {plan.subnet} on bridge {plan.bridge}")

        with ThreadPoolExecutor(max_workers=3) as pool:
            archive_f = pool.submit(images.standard_archive, self.settings.image_cache)
            master_ok_f = pool.submit(control.available, self._pictl, "master") if master else None
            agent_ok_f = pool.submit(control.available, self._pictl, "agent") if agents else None
            lan.ensure_bridge(plan)
            names = ([MASTER] if master else []) + [node_name(k) for k in range(1, count + 1)]
            for name in names:
                st.nodes[name] = self._plug(plan, name)
            self._save(st)
            archive = archive_f.result()
            run_master = master_ok_f is not None and master_ok_f.result()
            run_agents = run_master and agent_ok_f is not None and agent_ok_f.result()
        if master and not run_master:
            st.unavailable["master"] = "pictl master is not available"
        if agents and not run_agents:
            st.unavailable["agent"] = (
                "pictl agent is not available" if run_master or not master else "no master to join"
            )
        progress(f"{len(names)} namespaces on the LAN ({time.monotonic() - t0:.1f}s)")

        if run_master:
            st.nodes[MASTER].procs["master"] = control.start_master(self._pictl, plan, self.paths, master_args)
            self._save(st)
        pis = [n for n in names if n != MASTER]
        archives = [archive, *extra_images]
        self._boot_nodes(plan, st, pis, archives, write_cni=not run_agents, progress=progress)
        progress(f"containerd up with images on {len(pis)} nodes ({time.monotonic() - t0:.1f}s)")

        if run_master:
            control.wait_master_ready(plan, self.paths, st.nodes[MASTER].procs["master"],
                                      self.settings.master_ready_timeout)
            progress(f"master ready at {plan.server_url()} ({time.monotonic() - t0:.1f}s)")
        if run_agents:
            for name in pis:
                self._start_agent(plan, st, name)
            self._save(st)
            progress(f"agents started on {len(pis)} nodes")
        st.phase = "up"
        self._save(st)

    def _plug(self, plan: Plan, name: str) -> NodeRecord:
        ns = plan.netns(name)
        netns.create(ns)
        lan.attach_node(plan, name)
        self.paths.node(name).dir.mkdir(parents=True, exist_ok=True)
        return NodeRecord(name=name, ip=plan.ip(name), netns=ns, veth=plan.veth(name))

    def _boot_nodes(
        self,
        plan: Plan,
        st: TestbedState,
        names: list[str],
        archives: list[Path],
        *,
        write_cni: bool,
        progress: Progress,
    ) -> None:
        """Start containerd on ``names`` in parallel and import ``archives`` into each."""

        def boot(name: str) -> ProcRecord:
            paths = self.paths.node(name)
            if write_cni:
                cni.write_conflist(name, paths)
            rec = containerd.start(plan.netns(name), paths, self.settings.containerd)
            containerd.wait_ready(name, rec, paths, self.settings.containerd.ready_timeout)
            for archive in archives:
                try:
                    images.import_archive(paths.socket, archive, snapshotter=self.settings.containerd.snapshotter)
                except images.ImageError as exc:
                    raise ComponentFailed(f"{name}: {exc}", log=paths.containerd_log) from exc
            return rec

        with ThreadPoolExecutor(max_workers=min(4, max(1, len(names)))) as pool:
            futures = {name: pool.submit(boot, name) for name in names}
            errors = []
            for name, fut in futures.items():
                try:
                    st.nodes[name].procs["containerd"] = fut.result()
                except Exception as exc:
                    errors.append(exc)
        self._save(st)
        if errors:
            raise errors[0]

    def _start_agent(self, plan: Plan, st: TestbedState, name: str) -> None:
        paths = self.paths.node(name)
        if not paths.kubeconfig.exists():
            control.write_node_kubeconfig(plan, self.paths, name, paths.kubeconfig)
        if not (paths.agent_dir / "pki" / "kubelet.crt").exists():
            control.write_node_serving_cert(plan, self.paths, name, paths.agent_dir / "pki")
        st.nodes[name].procs["agent"] = control.start_agent(self._pictl, plan, name, paths, st.agent_args)

    def wait_nodes_ready(self, timeout: float | None = None, *, progress: Progress = _quiet) -> None:
        """Wait until the Node of every simulated Pi with a running agent is Ready."""
        st = self.state
        if not st.master or "master" in st.unavailable or "agent" in st.unavailable or not st.agents:
            return
        plan = Plan(self.name, st.index)
        pending = [n for n in _ordered(st.nodes) if n != MASTER and "agent" in st.nodes[n].procs]
        deadline = time.monotonic() + (self.settings.node_ready_timeout if timeout is None else timeout)
        while pending:
            pending = [n for n in pending if not control.node_ready(plan, self.paths, n)]
            for n in pending:
                if not procs.alive(st.nodes[n].procs["agent"]):
                    log = self.paths.node(n).agent_log
                    raise ComponentFailed(f"the agent on {n} exited: {procs.log_tail(log)}", log=log)
            if pending and time.monotonic() > deadline:
                raise ComponentFailed(f"nodes not Ready after {timeout or self.settings.node_ready_timeout:g}s: "
                                      f"{', '.join(pending)}")
            if pending:
                time.sleep(0.25)
        progress("all nodes Ready")

    def add_node(self, *, wait_ready: bool = True, progress: Progress = _quiet) -> Node:
        """Add pi-(N+1) to a running testbed, built like the others."""
        with self._locked():
            st = self.state
            if st.phase != "up":
                raise TestbedError(f"testbed {self.name!r} is not up")
            plan = Plan(self.name, st.index)
            taken = [node_number(n) for n in st.nodes if n != MASTER]
            name = node_name(max(taken, default=0) + 1)
            st.nodes[name] = self._plug(plan, name)
            self._save(st)
            run_agents = st.agents and "agent" not in st.unavailable
            archives = [images.standard_archive(self.settings.image_cache), *(Path(p) for p in st.images)]
            self._boot_nodes(plan, st, [name], archives, write_cni=not run_agents, progress=progress)
            if run_agents:
                self._start_agent(plan, st, name)
                self._save(st)
            progress(f"{name} is up at {plan.ip(name)}")
        if wait_ready and run_agents:
            self.wait_nodes_ready(progress=progress)
        return self.node(name)

    def import_images(self, archive: Path, nodes: Sequence[str] | None = None) -> None:
        """Import an extra archive (``hw.images.build_image``) into the nodes' containerd."""
        targets = list(nodes) if nodes is not None else [n.name for n in self.nodes]
        for name in targets:
            node = self.node(name)
            images.import_archive(node.containerd_socket, archive, snapshotter=self.settings.containerd.snapshotter)

    # ---- down ----------------------------------------------------------------------------

    def down(self, *, progress: Progress = _quiet) -> None:
        """Remove every trace of the testbed: processes, mounts, cgroups, namespaces, links,
        files, registry entry. Works on a half-built or damaged testbed; idempotent."""
        if os.geteuid() != 0:
            raise TestbedError("removing a testbed needs root: run it with sudo")
        index = self._registry.get(self.name)
        with contextlib.suppress(TestbedError):
            st = load_state(self.paths.state)
            if st is not None:
                index = st.index
        if index is None:
            index = lan.find_index(self.name)
        with contextlib.ExitStack() as stack:
            with contextlib.suppress(TestbedError):
                # No dir means nothing to lock; a holder that hangs must not block cleanup.
                stack.enter_context(self._locked(timeout=10.0))
            self._teardown(index, progress=progress)
        shutil.rmtree(self.paths.dir, ignore_errors=True)
        self._registry.release(self.name)
        progress(f"testbed {self.name} removed")

    def _teardown(self, index: int | None, *, progress: Progress = _quiet) -> None:
        plan = Plan(self.name, index) if index is not None else None
        ns_names = [n for n in _listdir(netns.NETNS_DIR) if plan and n.startswith(plan.prefix)]
        node_dirs = _node_dirs(self.paths)
        sockets = [s for d in node_dirs for s in cleanup.shim_sockets(NodePaths(d).containerd_state)]
        sandboxes = cleanup.sandbox_ids(*(p for d in node_dirs
                                          for p in (NodePaths(d).containerd_root, NodePaths(d).containerd_state)))
        cgroups = procs.kill_everything(ns_names, [self.paths.dir])
        progress("processes stopped")
        cleanup.remove_cgroups(cgroups)
        cleanup.unmount_under(self.paths.dir)
        cleanup.remove_shim_sockets(sockets)
        cleanup.remove_cni_cache(sandboxes)
        for ns in ns_names:
            netns.remove(ns)
        if plan is not None:
            lan.remove_host_links(plan.prefix)
        for child in _listdir(self.paths.dir):
            if child != ".lock":
                path = self.paths.dir / child
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        path.unlink()

    # ---- doing things in nodes -----------------------------------------------------------

    def exec(
        self,
        node: str,
        argv: Sequence[str],
        *,
        check: bool = False,
        capture: bool = True,
        timeout: float | None = 60.0,
        input: bytes | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ``argv`` in ``node``'s network namespace and wait for it."""
        if not argv:
            raise TestbedError("exec: no command given")
        path = self.node(node).netns_path
        try:
            return subprocess.run(
                ["nsenter", f"--net={path}", "--", *argv],
                check=check,
                capture_output=capture,
                timeout=timeout,
                input=input,
            )
        except FileNotFoundError as exc:
            raise TestbedError(f"exec: {exc.strerror}: {argv[0]}") from exc

    def popen(self, node: str, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start ``argv`` in ``node``'s network namespace; the caller waits for it (or kills it)."""
        path = self.node(node).netns_path
        return subprocess.Popen(["nsenter", f"--net={path}", "--", *argv], **kwargs)

    def fault(self, node: str, action: str) -> None:
        """Inject or repair a fault by its command-line name (see ``hw.testbed.faults``)."""
        entry = ACTIONS.get(action)
        if entry is None:
            raise TestbedError(f"unknown fault {action!r} (one of: {', '.join(ACTIONS)})")
        fault, direction = entry
        self.node(node)
        procs.reap_adopted()
        if direction == "inject":
            fault.inject(self, node)
        else:
            fault.repair(self, node)

    # ---- fault primitives ----------------------------------------------------------------

    def set_connected(self, node: str, connected: bool) -> None:
        with self._locked():
            self.node(node)
            lan.set_connected(self.plan, node, connected)

    def power_off(self, node: str) -> None:
        """Everything in the node dies at once; its /run and its network config are lost."""
        with self._locked():
            st = self.state
            plan = Plan(self.name, st.index)
            rec = st.nodes[self.node(node).name]
            paths = self.paths.node(node)
            sockets = cleanup.shim_sockets(paths.containerd_state)
            sandboxes = cleanup.sandbox_ids(paths.containerd_root, paths.containerd_state)
            cgroups = procs.kill_everything([plan.netns(node)], [paths.dir])
            cleanup.remove_cgroups(cgroups)
            cleanup.wipe_dir(paths.run)
            cleanup.unmount_under(paths.dir)
            for sock in (paths.socket, Path(f"{paths.socket}.ttrpc")):
                with contextlib.suppress(FileNotFoundError):
                    sock.unlink()
            cleanup.remove_shim_sockets(sockets)
            cleanup.remove_cni_cache(sandboxes)
            lan.reset_node_network(plan, node)
            lan.set_node_link(plan, node, up=False)
            rec.powered = False
            rec.procs.clear()
            self._save(st)

    def power_on(self, node: str) -> None:
        """Boot the node: containerd, then its agent (or the master, on node ``master``)."""
        with self._locked():
            st = self.state
            rec = st.nodes[self.node(node).name]
            if rec.powered:
                return
            lan.set_node_link(Plan(self.name, st.index), node, up=True)
            rec.powered = True
            self._save(st)
            if node == MASTER:
                self.start_component(node, "master")
                return
            self.start_component(node, "containerd")
            if st.agents and "agent" not in st.unavailable:
                self.start_component(node, "agent")

    def stop_component(self, node: str, component: str, sig: int = signal.SIGKILL) -> None:
        with self._locked():
            st = self.state
            rec = st.nodes[self.node(node).name]
            self._check_component(st, node, component)
            proc = rec.procs.pop(component, None)
            if proc is not None:
                procs.signal_proc(proc, sig)
            self._save(st)

    def start_component(self, node: str, component: str) -> None:
        """Start ``component`` on ``node`` unless it runs; waits for containerd and the master."""
        with self._locked():
            st = self.state
            plan = Plan(self.name, st.index)
            rec = st.nodes[self.node(node).name]
            self._check_component(st, node, component)
            if not rec.powered:
                raise TestbedError(f"{node} is powered off (fault {node} power-on first)")
            if procs.alive(rec.procs.get(component)):
                return
            paths = self.paths.node(node)
            if component == "containerd":
                proc = containerd.start(plan.netns(node), paths, self.settings.containerd)
                rec.procs[component] = proc
                self._save(st)
                containerd.wait_ready(node, proc, paths, self.settings.containerd.ready_timeout)
            elif component == "master":
                proc = control.start_master(self._pictl, plan, self.paths, st.master_args)
                rec.procs[component] = proc
                self._save(st)
                control.wait_master_ready(plan, self.paths, proc, self.settings.master_ready_timeout)
            else:
                self._start_agent(plan, st, node)
                self._save(st)

    def _check_component(self, st: TestbedState, node: str, component: str) -> None:
        allowed = {"master"} if node == MASTER else {"containerd", "agent"}
        if component not in allowed:
            raise TestbedError(f"{node} runs no {component} (it runs {', '.join(sorted(allowed))})")
        if component in st.unavailable:
            raise TestbedError(f"{node}: {st.unavailable[component]}")
        if component == "agent" and not st.agents:
            raise TestbedError(f"testbed {self.name!r} was made without agents")
        if component == "master" and not st.master:
            raise TestbedError(f"testbed {self.name!r} was made without a master")


def _require_tools(containerd_binary: str) -> None:
    if os.geteuid() != 0:
        raise TestbedError("the testbed needs root (network namespaces, bridges, containerd): run it with sudo")
    missing = [t for t in ("nsenter", containerd_binary, "containerd-shim-runc-v2", "runc", "ctr")
               if shutil.which(t) is None]
    if missing:
        raise TestbedError(f"the testbed needs {', '.join(missing)} (bash scripts/bootstrap.sh installs them)")


def _ordered(names: Any) -> list[str]:
    return sorted(names, key=lambda n: (n != MASTER, node_number(n) if n != MASTER else 0))


def _listdir(path: Path) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _node_dirs(paths: TestbedPaths) -> list[Path]:
    """Directories of the testbed's nodes (whatever the state file says)."""
    return [paths.dir / "nodes" / name for name in _listdir(paths.dir / "nodes")]

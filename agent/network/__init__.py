"""The pod network on a node: CNI configuration and host-gw routes.

- ``cni``           the bridge + host-local CNI config for this node's podCIDR
- ``sysctl``        ip_forward and bridge netfilter
- ``routes``        host-gw routes: the desired set, reconcile (level-based), the pyroute2 table
- ``routes_apply``  the same reconcile in a short-lived helper process (what the agent uses)
- ``podnet``        the above in one place for the agent
- ``netns``         run kernel-facing work inside a named network namespace

Routes are programmed through netlink with pyroute2, but not from the agent process: pyroute2's
package loads every netlink family it knows (~9 MB of resident memory, a sixth of the agent's
budget on a Pi) for work done only when nodes come, go or move. The agent runs
``python -m agent.network.routes_apply`` when the desired routes change and every few minutes
to repair drift (``routes_apply.HelperRoutes``); the child exits when done. Measured on the
testbed: the agent's idle RSS drops by that much, and a helper run takes a few tenths of a
second. The nftables rules of the service proxy (``agent.proxy.nft``) keep their own small
netlink socket in the agent, since they change with every Service and endpoint.
"""

"""The simulated Pi testbed: network namespaces on a bridge, each with its own containerd and agent."""

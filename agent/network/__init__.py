"""The pod network on a node: CNI configuration and host-gw routes."""

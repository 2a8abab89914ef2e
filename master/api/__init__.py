"""Kubernetes-shaped object types, validation, defaults, and the resource registry."""

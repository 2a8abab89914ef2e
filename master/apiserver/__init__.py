"""The Kubernetes-compatible API server: the only component that talks to the store."""

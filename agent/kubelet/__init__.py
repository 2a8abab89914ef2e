"""The kubelet: node registration and heartbeat, pod workers on containerd's CRI, probes, logs."""

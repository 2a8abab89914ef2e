"""The node agent: kubelet on containerd's CRI, and the nftables service proxy."""

"""The service proxy: Services and EndpointSlices to an nftables ruleset.

Public names::

    from agent.proxy import ServiceProxy, ProxyConfig, SyncSettings, ProxyMetrics
    from agent.proxy import KernelNetfilter, FakeNetfilter

``model`` (inputs and adapters from master.api), ``rules`` (the pure layout),
``proxier`` (state, diff and sync), ``runner`` (bounded, periodic syncs), ``nft`` (the
kernel side).
"""

from agent.proxy.errors import ApplyError, DumpError, NetfilterError, ProxyError
from agent.proxy.metrics import ProxyMetrics
from agent.proxy.model import (
    EndpointInfo,
    EndpointPortInfo,
    EndpointSliceInfo,
    ProxyConfig,
    ServiceInfo,
    ServicePortInfo,
    endpoint_slice_info,
    service_info,
)
from agent.proxy.nft.fake import FakeNetfilter
from agent.proxy.nft.kernel import KernelNetfilter
from agent.proxy.nft.netfilter import Netfilter
from agent.proxy.proxier import ServiceProxy, SyncResult
from agent.proxy.runner import SyncRunner, SyncSettings

__all__ = [
    "ApplyError",
    "DumpError",
    "EndpointInfo",
    "EndpointPortInfo",
    "EndpointSliceInfo",
    "FakeNetfilter",
    "KernelNetfilter",
    "Netfilter",
    "NetfilterError",
    "ProxyConfig",
    "ProxyError",
    "ProxyMetrics",
    "ServiceInfo",
    "ServicePortInfo",
    "ServiceProxy",
    "SyncResult",
    "SyncRunner",
    "SyncSettings",
    "endpoint_slice_info",
    "service_info",
]

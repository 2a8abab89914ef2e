"""The service proxy: Services and EndpointSlices to an nftables ruleset."""

"""The async API client, informers, work queues and leader election shared by every component.

The map (each module owns one concept; import the module and qualify, e.g. ``errors.NotFound``):

- ``kubeconfig``     kubeconfig files: load/merge, write, select a context -> ``ClientConfig``
- ``config``         ``ClientConfig``: server, TLS material, token, timeouts, retries
- ``transport``      pooled HTTPS, retries, Status -> exception mapping, streaming lines
- ``http1``          HTTP/1.1 on asyncio streams (the wire under ``transport``; the agent's probes)
- ``errors``         the exception tree (``ApiError`` subclasses carry the server's Status)
- ``rest``           ``ApiClient``: typed verbs, watch, subresources, raw requests
- ``cache``          the informer cache with indexes; ``meta_namespace_key`` / ``split_key``
- ``informer``       ``Informer`` (list + watch + cache + handlers), ``SharedInformerFactory``
- ``workqueue``      ``WorkQueue``: dedup, per-key exclusivity, delays, rate limits, metrics
- ``ratelimit``      per-key retry delays (client-go's default controller rate limiter)
- ``controller``     ``Controller``: informer handlers -> work queue -> workers -> ``sync(key)``
- ``leaderelection`` ``LeaderElector`` on a coordination.k8s.io/v1 Lease
- ``events``         ``EventRecorder``: core/v1 Events, aggregated and rate limited
"""

"""The controller-manager and its controllers: clients of the apiserver through ``master.client``.

Every controller follows one shape (STYLE.md's kube-controller-manager anchor): informer
handlers only enqueue keys (and note expectations); ``sync(key)`` re-reads the caches, does
nothing when desired == actual, never changes a cached object (it builds new ones), treats
NotFound as done, and is retried with backoff when it fails.

The map::

    manager          ControllerManager: leader election, shared informers, one term per lease
    component        the start/stop component ``pictl master`` runs (metrics registration)
    registry         name -> module (``--controllers``: ``*``, ``foo``, ``-foo``)
    settings         ControllerManagerSettings (kube-controller-manager's flag names)
    context          ControllerContext (api, informers, clock, events, metrics) and shared indexes
    metrics          sync duration / errors per controller, work-queue families, node metrics

    replicaset       ReplicaSets: pods by template, expectations, slow start, deletion ranking
    deployment/      Deployments: rolling, recreate, proportional scaling, revisions, conditions
    daemonset        one pod per eligible node, node affinity placement, rolling update
    endpoints        core/v1 Endpoints from Service selectors and pod readiness
    endpointslice    discovery.k8s.io/v1 EndpointSlices (ready / serving / terminating)
    namespace        deleting a namespace's contents, then finalizing it
    garbagecollector/  ownerReferences graph; background, foreground and orphan deletion
    nodeipam         a podCIDR per node out of --cluster-cidr
    nodelifecycle/   node health, NoExecute/NoSchedule taints, zone rate limits, taint eviction
    serviceaccount   the ``default`` ServiceAccount in every namespace
    podgc            terminated, orphaned and unscheduled-terminating pods
    (issue 8)        certificates/ (csrapproving, csrsigning), tokencleaner, bootstrapsigner

    claims           adopt / release by selector and controllerRef
    expectations     creations and deletions not yet seen by the informer
    podcontrol       pods from templates, create / delete with events
    servicepods      pods behind a Service, port resolution
    taints           the node taint keys, taint list edits (matching: master.api.scheduling)
    hashing          pod template hashes (pod-template-hash, controller-revision-hash)
    util             selector cache, slow-start batches, int-or-percent, status writes
"""

"""The scheduler ("1. filter nodes, 2. rank nodes"): a client of the apiserver that binds
pending pods to nodes. Where things are::

    scheduler      Scheduler: informers -> queue and cache; the loop; binding; events
    component      SchedulerComponent: leader election around a Scheduler (``pictl master``)
    queue          SchedulingQueue: activeQ, backoffQ, unschedulable pods, cluster events
    cache          SchedulerCache: NodeInfo per node, assumed pods
    algorithm      one pod's placement: feasible nodes, scores, the FitError summary
    config         the KubeSchedulerConfiguration-like YAML, profiles
    metrics        scheduler_* Prometheus metrics
    framework/     extension point Protocols, Status, CycleState, PodInfo/NodeInfo, runtime
    plugins/       in-tree plugins, one module each, by name in ``plugins.IN_TREE``
"""

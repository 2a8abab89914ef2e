"""What the client verbs of ``pictl`` (get, apply, delete, ...) share, kubectl's habits in one place.

The map (each module owns one concept; the ``*_cmd`` modules in ``master.cli`` compose them):

- ``options``     the global flags (--kubeconfig, --context, -n, --server, --request-timeout),
                  injected into every cluster command; durations ("30s", "5m")
- ``session``     ``run(globals, body)``: kubeconfig -> ``ApiClient`` -> asyncio, errors -> one line
- ``errors``      client and API failures worded as kubectl words them
- ``rest``        raw (dict) requests: get/list/create/patch/delete/watch, Table form for ``get``
- ``resources``   "po", "deploy.apps", "pods,svc", "pod/web", "all" -> registry entries and names
- ``tabwriter``   Go's text/tabwriter alignment (kubectl's columns and describe's key/value blocks)
- ``printing``    server-side Tables to text, colour only on a terminal, AGE
- ``output``      -o yaml|json|name|jsonpath=...|custom-columns=...
- ``jsonpath``    the kubectl JSONPath subset that ``-o jsonpath`` and custom columns use
- ``manifests``   -f files, directories, stdin; multi-document YAML with line numbers in errors
- ``threeway``    client-side apply: the three-way strategic merge patch from last-applied, live, new
- ``describe``    kubectl-like ``describe`` sections per kind, and the Events table
- ``rollout``     rollout status messages, revisions of Deployments (undo, history)
- ``drain``       which pods a drain evicts, skips or refuses
- ``metrics``     the agents' ``/metrics/resource`` (Prometheus text) for ``top``
- ``kubeconfig_edit``  ``config`` verbs: the raw YAML of kubeconfig files, redaction, writes
- ``waiting``     waits for conditions with a progress line on a terminal
"""

"""The certificate controllers: csrapproving (approves agents' CSRs), csrsigning (issues them with
the cluster CA), and the request checks both apply (``requests``)."""

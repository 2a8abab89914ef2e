"""The control plane: store, apiserver, client, controllers, scheduler, and the pictl CLI."""

__version__ = "0.1.0"

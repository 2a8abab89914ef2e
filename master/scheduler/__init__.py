"""The scheduler: queue, cache, framework and plugins."""

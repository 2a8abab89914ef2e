"""The async API client, informers, work queues and leader election shared by every component."""

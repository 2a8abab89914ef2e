"""The physical side: board facts, power control, provisioning, and the simulated Pi testbed."""

"""The scheduling framework: extension points, cycle state, statuses, and the runtime that runs
a profile's plugins (see ``interface`` for the order of a cycle)."""

"""NodeResourcesFit (filter + LeastAllocated/MostAllocated score) and
NodeResourcesBalancedAllocation, sharing the per-resource allocation arithmetic."""

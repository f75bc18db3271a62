"""MMDetection modules registered by this package (hooks, heads, metrics)."""

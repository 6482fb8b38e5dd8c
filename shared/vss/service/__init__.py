"""Service layer: use cases over the ports (auth, uploads, tasks, stages)."""

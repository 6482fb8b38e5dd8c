"""Stage handlers: each turns a task's inputs into its artifacts (see vss.service.stages)."""

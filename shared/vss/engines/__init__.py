"""Stage handlers: each turns a task's inputs into its artifacts (contract:
`vss.stage_handler`); `vss.engines.registry` maps each stage to its handler."""

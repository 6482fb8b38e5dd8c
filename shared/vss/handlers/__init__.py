"""Stage and segment handlers: each turns a task's inputs into its artifacts (contract:
`vss.stage_handler`). `vss.bootstrap` binds each to its configuration and maps each stage to
its handler."""

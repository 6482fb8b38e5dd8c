"""The edge-facing HTTP API (DESIGN.md §4), a Flask app served by functions-framework."""

"""Domain layer: pure models and rules (stdlib, pydantic, numpy only)."""

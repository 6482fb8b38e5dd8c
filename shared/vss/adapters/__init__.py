"""Adapters: the ports of `vss.ports` implemented with Google Cloud client libraries."""

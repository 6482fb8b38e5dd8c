"""A small edge-side client of the API (what the seed's Edge Instance does)."""

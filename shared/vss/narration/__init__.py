"""Narration: from a normalized dataset to a paced, grounded narration script."""

"""Visify Story Studio Cloud: the shared library every function imports."""

"""The local stack: `stack.py` (the CLI) and the modules it is made of, see README.md here."""

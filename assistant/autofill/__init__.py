"""Autofill: read a form's fields, say which fact each asks for, and fill it as far as
the user's grants allow (see `policies/release.py` for the rules)."""

"""Audit sub-commands (neighbors, eval), registered into the main parser."""


def add_audit_commands(sub):
    pass

"""Credential rotation: the rotate API and the rotation function Secrets Manager drives (four steps).

It sits above ``connections`` (the verifying connection, its health check) and
``runs`` (the verification run); the vault, versions and per-credential state it
works on stay below them in ``chalicelib.credentials``.
"""

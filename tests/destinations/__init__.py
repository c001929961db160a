"""Tests of chalicelib.destinations: models, the tenant-tagged writers and the access check, on moto."""

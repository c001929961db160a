"""Finishing ``build/deployment.zip`` after ``chalice package``: trim, compile, check the size."""

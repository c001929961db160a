"""Operator commands run by hand against a stage (AWS) or the local runtime (moto)."""

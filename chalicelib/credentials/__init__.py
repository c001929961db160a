"""Credentials: values in Secrets Manager, only references anywhere else."""

"""Tenant connections to vendors: configuration, status, health, credential reference."""

"""Who is calling: bearer JWTs (and API keys) resolved to a tenant and scopes."""

"""The provider catalog: built-in vendors plus each tenant's own registrations."""

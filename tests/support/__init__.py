"""Test helpers: real servers and clients, no mocks of platform code."""

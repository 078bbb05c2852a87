"""Shared parts of the service: settings, app factory, logging, staff accounts, admin CLI."""

"""Operator tools: backup and restore."""

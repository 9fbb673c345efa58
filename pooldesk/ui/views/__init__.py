"""Widgets only: they show what a controller tells them and emit signals for user actions."""

"""`pooldesk demo`: the whole system on one computer, with nothing to install or configure.

A private temporary data folder holds a backend (SQLite, its managed Mosquitto) started as a
subprocess, and two simulated, unprovisioned controllers run in this process on Bumble's
virtual radio. The headless story (`story.py`) or the app (`gui.py`) then uses them; closing
stops everything that was started and checks that no process is left behind.
"""

"""PoolDesk: the desktop app for multi-user pool controllers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pooldesk")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

"""expense-tracker: an expense-tracking web app (Litestar, async)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("expense-tracker")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

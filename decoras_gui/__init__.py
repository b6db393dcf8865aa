"""decoras-gui: find and measure sources in radio images with the DECORAS networks."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("decoras-gui")
except PackageNotFoundError:  # running from a checkout without an install
    __version__ = "0.0.0+checkout"

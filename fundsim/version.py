"""fundsim's version, in one place (the package metadata reads it too: pyproject.toml ``dynamic``).

Modules import it from here rather than from the package root, so that importing any module does
not first import the whole public API (``fundsim/__init__.py``).
"""

__version__ = "0.4.0"

"""adfs-readiness: grades whether AD FS single sign-on for Microsoft 365 / Entra ID will work.

The public API for check plugins lives in :mod:`adfs_readiness.api`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

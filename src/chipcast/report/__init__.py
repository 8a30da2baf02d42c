"""The static, offline HTML report (reports/site/): `build_site(root, today)`."""

from chipcast.report.site import build_site

__all__ = ["build_site"]

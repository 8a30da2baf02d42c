"""The static, offline HTML report (reports/site/): `build_site(root, today)`.

`build_site` is imported on first use, so a process that needs one module of the report (a
chart-drawing worker imports only `chipcast.report.svg`) does not load the whole site.
"""

from typing import Any

__all__ = ["build_site"]


def __getattr__(name: str) -> Any:
    if name == "build_site":
        from chipcast.report.site import build_site

        return build_site
    raise AttributeError(name)

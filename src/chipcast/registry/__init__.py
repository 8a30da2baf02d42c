"""The registry: load, validate and settle a project's claims, indicators and observations.

`load(root)` is what every command and notebook starts from; `check_project(root)` is what
`chipcast validate` prints.
"""

from chipcast.registry.load import check_project, load
from chipcast.registry.problems import InvalidData, Problem
from chipcast.registry.project import Registry

__all__ = ["InvalidData", "Problem", "Registry", "check_project", "load"]

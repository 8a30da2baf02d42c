"""Problems found in a project's files, located as `path:line: field: message`.

YAML documents are composed once more as nodes so that a field's problem names the line the
field starts on; pydantic's errors are turned into such problems here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one file, located as precisely as the file allows."""

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


class InvalidData(Exception):
    """Raised when a project's files do not validate; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Located:
    """Maps a key path inside a YAML document to the line it starts on (1-based)."""

    def __init__(self, node: yaml.Node | None):
        self.node = node

    @classmethod
    def of_text(cls, text: str) -> Located:
        return cls(yaml.compose(text))

    def line(self, path: Iterable[object]) -> int:
        node = self.node
        best = 1 if node is None else node.start_mark.line + 1
        for part in path:
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if k.value == part:
                        best = k.start_mark.line + 1
                        node = v
                        break
                else:
                    return best
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part < len(node.value):
                    node = node.value[part]
                    best = node.start_mark.line + 1
                else:
                    return best
            else:
                return best
        return best


def load_yaml(path: Path, rel: str) -> tuple[object, Located, list[Problem]]:
    """A YAML file's data and line locator, or the problem that stops it being read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, Located(None), [Problem(rel, 1, "file", f"cannot read: {exc}")]
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        node = yaml.compose(text, Loader=loader)
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        msg = getattr(exc, "problem", None) or str(exc)
        return None, Located(None), [Problem(rel, line, "yaml", f"malformed YAML: {msg}")]
    return data, Located(node), []


def pydantic_problems(
    exc: ValidationError, rel: str, where: Located, prefix: tuple[object, ...] = ()
) -> list[Problem]:
    """One problem per pydantic error, on the line of the field it names."""
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        field_name = ".".join(str(p) for p in loc) if loc else "record"
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "required field missing"
        if not loc and ": " in msg:
            field_name, msg = msg.split(": ", 1)
            loc = (field_name,)
        out.append(Problem(rel, where.line(prefix + loc), field_name, msg))
    return out


def parse(
    model: type[BaseModel], data: object, rel: str, where: Located, prefix: tuple[object, ...] = ()
) -> tuple[BaseModel | None, list[Problem]]:
    """`model` validated from `data`, or None and the located problems."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, pydantic_problems(exc, rel, where, prefix)

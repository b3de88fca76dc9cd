"""Solution and hidden-test markers inside one cell's source (nbgrader's spelling).

A solution block::

        ### BEGIN SOLUTION
        return x * 2
        ### END SOLUTION

becomes, at the indentation of the BEGIN line::

        # YOUR CODE HERE
        raise NotImplementedError()

In a markdown cell it becomes the line ``YOUR ANSWER HERE``. A hidden-tests block
(``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``) is removed with its markers.
Blocks cannot nest; every BEGIN needs its END in the same cell.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BEGIN_SOLUTION", "END_SOLUTION", "BEGIN_HIDDEN", "END_HIDDEN", "MarkerError", "Block",
           "find_blocks", "strip_markers", "has_markers"]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"

_KINDS = {BEGIN_SOLUTION: ("solution", "begin"), END_SOLUTION: ("solution", "end"),
          BEGIN_HIDDEN: ("hidden", "begin"), END_HIDDEN: ("hidden", "end")}
_END_OF = {"solution": END_SOLUTION, "hidden": END_HIDDEN}
_MARKER_RE = re.compile(r"^(\s*)(### (?:BEGIN|END) (?:SOLUTION|HIDDEN TESTS))\s*$")


class MarkerError(ValueError):
    """Unbalanced or nested solution markers; the message names file, cell and line."""

    def __init__(self, message: str, *, path: str | None = None, cell: int | None = None,
                 line: int | None = None):
        self.path, self.cell, self.line, self.reason = path, cell, line, message
        where = ", ".join(p for p in (path, None if cell is None else f"cell {cell} (counting from 0)",
                                      None if line is None else f"line {line}") if p)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class Block:
    """One marked block: `kind` is 'solution' or 'hidden'; lines are 1-based, markers included."""
    kind: str
    begin: int
    end: int
    indent: str
    body: tuple[str, ...]        # the lines strictly between the markers


def _marker(line: str):
    m = _MARKER_RE.match(line)
    if m is None:
        if "### BEGIN " in line or "### END " in line:
            stripped = line.strip()
            for text in _KINDS:
                if stripped.startswith(text):
                    return line[: len(line) - len(line.lstrip())], text
        return None
    return m.group(1), m.group(2)


def find_blocks(source: str, *, path: str | None = None, cell: int | None = None) -> list[Block]:
    """The marked blocks of `source`, in order; MarkerError if they nest or do not balance."""
    blocks, open_ = [], None          # open_: (kind, begin line, indent, body lines)
    lines = source.split("\n")
    for number, line in enumerate(lines, start=1):
        found = _marker(line)
        if found is None:
            if open_ is not None:
                open_[3].append(line)
            continue
        indent, text = found
        kind, edge = _KINDS[text]
        if edge == "begin":
            if open_ is not None:
                raise MarkerError(
                    f"'{text}' inside the {open_[0]} block opened at line {open_[1]}; blocks cannot nest. "
                    f"Close the first with '{_END_OF[open_[0]]}' before opening another.",
                    path=path, cell=cell, line=number)
            open_ = (kind, number, indent, [])
        else:
            if open_ is None:
                raise MarkerError(f"'{text}' without a matching '{text.replace('END', 'BEGIN', 1)}' before it.",
                                  path=path, cell=cell, line=number)
            if open_[0] != kind:
                raise MarkerError(
                    f"'{text}' closes the {open_[0]} block opened at line {open_[1]}; "
                    f"expected '{_END_OF[open_[0]]}'.", path=path, cell=cell, line=number)
            blocks.append(Block(kind, open_[1], number, open_[2], tuple(open_[3])))
            open_ = None
    if open_ is not None:
        raise MarkerError(f"the {open_[0]} block opened here has no '{_END_OF[open_[0]]}' in the same cell.",
                          path=path, cell=cell, line=open_[1])
    return blocks


def has_markers(source: str) -> bool:
    """True if any marker line appears in `source` (balanced or not)."""
    return any(_marker(line) for line in source.split("\n"))


def strip_markers(source: str, *, markdown: bool = False, path: str | None = None,
                  cell: int | None = None) -> str:
    """`source` with solution blocks replaced by the stub and hidden-test blocks removed."""
    blocks = find_blocks(source, path=path, cell=cell)
    if not blocks:
        return source
    lines = source.split("\n")
    out, i = [], 0
    for block in blocks:
        out.extend(lines[i: block.begin - 1])
        if block.kind == "solution":
            if markdown:
                out.append(f"{block.indent}YOUR ANSWER HERE")
            else:
                out.append(f"{block.indent}# YOUR CODE HERE")
                out.append(f"{block.indent}raise NotImplementedError()")
        i = block.end
    out.extend(lines[i:])
    return "\n".join(out)

"""Work breakdown structure: outline codes, moves, the 100 % roll-up, pasting an outline.

Hand-written because each part is a few lines over plain rows and no well-kept library
offers WBS semantics (outline codes, MS-Project-like indent and outdent, the 100 % rule with
Decimals); a tree library would add a dependency for less.

The tree is given as rows ``(id, parent, position)``: ``parent`` is None at the top, and
siblings are ordered by ``position`` (ties: input order). Nothing is stored here.

- ``codes(rows)``: outline codes ``1``, ``1.2``, ``1.2.3`` from the sibling order, so after
  any move renumbering is recomputing the codes.
- Moves (``indent``, ``outdent``, ``move_before``, ``move_after``, ``move_into``) return the
  new ``Placement(parent, position)`` of the rows that change, and only those. The item moves
  with its whole subtree. The sibling lists a move touches (the one left, the one joined) are
  renumbered 1, 2, 3, ... so that a position equals the last number of the code; other lists
  keep their positions. Indent: the item becomes the last child of its previous sibling.
  Outdent: the item becomes the next sibling of its parent (its own later siblings stay under
  the parent). A move that would put an item under itself is refused.
- ``roll_up(rows, figures)``: the 100 % rule. A summary's effort hours and budget are exactly
  the sums over its leaves (Decimals; sums run in a context that raises rather than round).
  Its percent complete is the average of its leaves' percents weighted by their effort hours;
  if none of its leaves has effort, by their duration in days; if none has a duration
  either, equally. It is rounded half-up to 0.01 at the summary (computed from the leaves,
  never from rounded children). Dates: the earliest start, the latest finish. Figures given
  for a summary are ignored: a parent is its children's roll-up.
- ``parse_outline(text)``: "paste an indented text outline" (syntax below).

Outline syntax, one work item per line; blank lines are ignored:

- Depth by indentation (spaces or tabs): the first line is at the top; a line indented more
  than the line before is its child (one level deeper, however much more); a line indented
  less must line up exactly with an earlier level. Indentations are compared as text: a
  child's must begin with its parent's, so mixing tabs and spaces inconsistently is an error
  rather than a guess.
- Or numbered: if every line starts with an outline number (``1``, ``1.2``, ``1.2.3``, with or
  without a trailing dot) followed by a space, the number gives the depth (``1.2`` is depth
  1) and indentation is ignored. The values are not checked (the WBS is renumbered anyway),
  only that no line goes more than one level deeper than the line before, and the first line
  is at the top. So a list whose every line begins with a number is read as numbered.
- A leading bullet (``-``, ``*`` or ``•`` and a space) is dropped.
- Duration: ``Name | 3d`` gives 3 working days (``| 0d``: a milestone); without ``|`` the
  duration is None. A line holding ``|`` must end with such a duration.

``parse_outline`` returns ``OutlineLine(depth, name, duration)`` per line; ``outline_parents``
gives each line's parent line. Errors carry the 1-based line number and no words.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, localcontext
from typing import NamedTuple

# --- Errors ----------------------------------------------------------------------------------


class WbsError(ValueError):
    """The rows or the move are invalid. Subclasses carry the ids concerned."""


class DuplicateItemError(WbsError):
    def __init__(self, item: Hashable) -> None:
        super().__init__(item)
        self.item = item


class UnknownItemError(WbsError):
    """A row's parent, the item moved or the target is not among the rows."""

    def __init__(self, item: Hashable) -> None:
        super().__init__(item)
        self.item = item


class ParentCycleError(WbsError):
    """``items``: the rows whose parents loop, each one's parent being the next."""

    def __init__(self, items: list[Hashable]) -> None:
        super().__init__(items)
        self.items = items


class CannotIndent(WbsError):
    """The item is the first of its siblings: there is nothing to indent it under."""

    def __init__(self, item: Hashable) -> None:
        super().__init__(item)
        self.item = item


class CannotOutdent(WbsError):
    """The item is already at the top level."""

    def __init__(self, item: Hashable) -> None:
        super().__init__(item)
        self.item = item


class MoveUnderItself(WbsError):
    """``target`` is ``item`` or below it."""

    def __init__(self, item: Hashable, target: Hashable) -> None:
        super().__init__(item, target)
        self.item = item
        self.target = target


class OutlineError(ValueError):
    """A pasted outline cannot be read; ``line`` is 1-based, blank lines counted."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class IndentMismatch(OutlineError):
    """Less indented than the line before, but not lined up with any earlier level (or
    indented with other characters than its parent)."""


class DepthJump(OutlineError):
    """Numbered outline: more than one level deeper than the line before, or a first line
    that is not at the top."""


class BadDuration(OutlineError):
    """The text after the last ``|`` is not a duration like ``3d``."""


class EmptyName(OutlineError):
    """Nothing left of the line once indentation, number, bullet and duration are read."""


# --- Tree rows -------------------------------------------------------------------------------


class Row(NamedTuple):
    id: Hashable
    parent: Hashable | None
    position: int


class Placement(NamedTuple):
    parent: Hashable | None
    position: int


RowLike = tuple[Hashable, Hashable | None, int]


class _Tree:
    """Rows as ordered children lists (key None: the top level) and a parent map."""

    def __init__(self, rows: Iterable[RowLike]) -> None:
        listed = [Row(*row) for row in rows]
        parent: dict[Hashable, Hashable | None] = {}
        for row in listed:
            if row.id in parent:
                raise DuplicateItemError(row.id)
            parent[row.id] = row.parent
        order = {row.id: k for k, row in enumerate(listed)}
        children: dict[Hashable | None, list[Hashable]] = {None: []}
        for row in sorted(listed, key=lambda r: (r.position, order[r.id])):
            if row.parent is not None and row.parent not in parent:
                raise UnknownItemError(row.parent)
            children.setdefault(row.parent, []).append(row.id)
        self.rows = {row.id: row for row in listed}
        self.parent = parent
        self.children = children
        self._refuse_parent_cycles()

    def _refuse_parent_cycles(self) -> None:
        reached: set[Hashable] = set()
        stack: list[Hashable | None] = [None]
        while stack:
            for child in self.children.get(stack.pop(), []):
                reached.add(child)
                stack.append(child)
        if len(reached) < len(self.parent):
            item = next(i for i in self.parent if i not in reached)
            walk: dict[Hashable, int] = {}
            while item not in walk:
                walk[item] = len(walk)
                item = self.parent[item]
            raise ParentCycleError(list(walk)[walk[item] :])

    def kids(self, item: Hashable | None) -> list[Hashable]:
        return self.children.get(item, [])

    def require(self, item: Hashable) -> None:
        if item not in self.parent:
            raise UnknownItemError(item)

    def is_within(self, item: Hashable | None, ancestor: Hashable) -> bool:
        """``item`` is ``ancestor`` or below it."""
        while item is not None:
            if item == ancestor:
                return True
            item = self.parent[item]
        return False

    def place(
        self, item: Hashable, parent: Hashable | None, index: int
    ) -> dict[Hashable, Placement]:
        """Put ``item`` (with its subtree) at ``index`` among ``parent``'s children, counted
        once the item is out of its old list; renumber the lists touched from 1."""
        old = [i for i in self.kids(self.parent[item]) if i != item]
        new = old if parent == self.parent[item] else [i for i in self.kids(parent) if i != item]
        new.insert(index, item)
        wanted: dict[Hashable, Placement] = {}
        for siblings, under in ((old, self.parent[item]), (new, parent)):
            for position, i in enumerate(siblings, start=1):
                wanted[i] = Placement(under, position)
        return {
            i: p
            for i, p in wanted.items()
            if (self.rows[i].parent, self.rows[i].position) != (p.parent, p.position)
        }


def codes(rows: Iterable[RowLike]) -> dict[Hashable, str]:
    """Outline code of every row (``1``, ``1.2``, ...), in outline order."""
    return _codes(_Tree(rows))


def _codes(tree: _Tree) -> dict[Hashable, str]:
    found: dict[Hashable, str] = {}
    stack: list[tuple[Hashable, str]] = [
        (item, str(k)) for k, item in reversed(list(enumerate(tree.kids(None), start=1)))
    ]
    while stack:
        item, code = stack.pop()
        found[item] = code
        kids = tree.kids(item)
        stack.extend((kid, f"{code}.{k}") for k, kid in reversed(list(enumerate(kids, start=1))))
    return found


def indent(rows: Iterable[RowLike], item: Hashable) -> dict[Hashable, Placement]:
    """``item`` becomes the last child of its previous sibling."""
    tree = _Tree(rows)
    tree.require(item)
    siblings = tree.kids(tree.parent[item])
    k = siblings.index(item)
    if k == 0:
        raise CannotIndent(item)
    new_parent = siblings[k - 1]
    return tree.place(item, new_parent, len(tree.kids(new_parent)))


def outdent(rows: Iterable[RowLike], item: Hashable) -> dict[Hashable, Placement]:
    """``item`` becomes the next sibling of its parent."""
    tree = _Tree(rows)
    tree.require(item)
    parent = tree.parent[item]
    if parent is None:
        raise CannotOutdent(item)
    grandparent = tree.parent[parent]
    return tree.place(item, grandparent, tree.kids(grandparent).index(parent) + 1)


def move_before(
    rows: Iterable[RowLike], item: Hashable, target: Hashable
) -> dict[Hashable, Placement]:
    """``item`` becomes the sibling just before ``target``."""
    return _move_beside(rows, item, target, after=False)


def move_after(
    rows: Iterable[RowLike], item: Hashable, target: Hashable
) -> dict[Hashable, Placement]:
    """``item`` becomes the sibling just after ``target``."""
    return _move_beside(rows, item, target, after=True)


def move_into(
    rows: Iterable[RowLike], item: Hashable, target: Hashable | None
) -> dict[Hashable, Placement]:
    """``item`` becomes the last child of ``target`` (None: the last item of the top level)."""
    tree = _Tree(rows)
    tree.require(item)
    if target is not None:
        tree.require(target)
        if tree.is_within(target, item):
            raise MoveUnderItself(item, target)
    return tree.place(item, target, len([i for i in tree.kids(target) if i != item]))


def _move_beside(
    rows: Iterable[RowLike], item: Hashable, target: Hashable, *, after: bool
) -> dict[Hashable, Placement]:
    tree = _Tree(rows)
    tree.require(item)
    tree.require(target)
    if target == item:
        return {}
    if tree.is_within(target, item):
        raise MoveUnderItself(item, target)
    parent = tree.parent[target]
    siblings = [i for i in tree.kids(parent) if i != item]
    return tree.place(item, parent, siblings.index(target) + (1 if after else 0))


# --- Roll-up ---------------------------------------------------------------------------------

WEIGHT_EFFORT, WEIGHT_DURATION, WEIGHT_EQUAL = "effort_hours", "duration_days", "equal"
_ZERO = Decimal(0)
_CENT = Decimal("0.01")
# Sums must be exact: 60 digits hold any budget, and an inexact sum raises instead.
_EXACT = Context(prec=60, traps=[Inexact])


@dataclass(frozen=True, slots=True)
class Figures:
    """A leaf's own figures (percent complete 0-100)."""

    effort_hours: Decimal = _ZERO
    budget: Decimal = _ZERO
    percent_complete: Decimal = _ZERO
    duration_days: int = 0
    start: date | None = None
    finish: date | None = None


@dataclass(frozen=True, slots=True)
class RolledUp:
    """An item's figures: its own for a leaf, its leaves' roll-up for a summary.
    ``weighted_by``: the weight of the summary's percent complete (None for a leaf)."""

    effort_hours: Decimal
    budget: Decimal
    percent_complete: Decimal
    start: date | None
    finish: date | None
    weighted_by: str | None


@dataclass(slots=True)
class _Sums:
    effort: Decimal = _ZERO
    budget: Decimal = _ZERO
    effort_done: Decimal = _ZERO  # sum of effort x percent
    duration: int = 0
    duration_done: Decimal = _ZERO  # sum of duration x percent
    leaves: int = 0
    percent: Decimal = _ZERO  # sum of percents
    start: date | None = None
    finish: date | None = None

    def add(self, other: _Sums) -> None:
        self.effort += other.effort
        self.budget += other.budget
        self.effort_done += other.effort_done
        self.duration += other.duration
        self.duration_done += other.duration_done
        self.leaves += other.leaves
        self.percent += other.percent
        if other.start is not None and (self.start is None or other.start < self.start):
            self.start = other.start
        if other.finish is not None and (self.finish is None or other.finish > self.finish):
            self.finish = other.finish


def _decimal(value: Decimal | int) -> Decimal:
    if isinstance(value, float):  # money and hours never go through binary floats
        raise TypeError("a float where a Decimal is expected")
    return Decimal(value)


def roll_up(
    rows: Iterable[RowLike], figures: Mapping[Hashable, Figures]
) -> dict[Hashable, RolledUp]:
    """Every row's figures; leaves missing from ``figures`` count as zero and undated."""
    tree = _Tree(rows)
    outline = list(_codes(tree))  # parents before children
    sums: dict[Hashable, _Sums] = {}
    result: dict[Hashable, RolledUp] = {}
    with localcontext(_EXACT):
        for item in reversed(outline):
            kids = tree.kids(item)
            if not kids:
                own = figures.get(item, Figures())
                effort, budget = _decimal(own.effort_hours), _decimal(own.budget)
                percent = _decimal(own.percent_complete)
                sums[item] = _Sums(
                    effort, budget, effort * percent, own.duration_days,
                    own.duration_days * percent, 1, percent, own.start, own.finish,
                )  # fmt: skip
                result[item] = RolledUp(effort, budget, percent, own.start, own.finish, None)
                continue
            total = _Sums()
            for kid in kids:
                total.add(sums[kid])
            sums[item] = total
            percent, weight = _weighted_percent(total)
            result[item] = RolledUp(
                total.effort, total.budget, percent, total.start, total.finish, weight
            )
    return {item: result[item] for item in outline}


def _weighted_percent(total: _Sums) -> tuple[Decimal, str]:
    with localcontext(Context(prec=28)):  # a quotient is rounded, then quantized
        if total.effort > 0:
            percent, weight = total.effort_done / total.effort, WEIGHT_EFFORT
        elif total.duration > 0:
            percent, weight = total.duration_done / total.duration, WEIGHT_DURATION
        else:
            percent, weight = total.percent / total.leaves, WEIGHT_EQUAL
        return percent.quantize(_CENT, rounding=ROUND_HALF_UP), weight


# --- Pasting an outline ----------------------------------------------------------------------


class OutlineLine(NamedTuple):
    depth: int
    name: str
    duration: int | None


_NUMBER = re.compile(r"(\d+(?:\.\d+)*)\.?[ \t]+(.*)")
_BULLET = re.compile(r"[-*\u2022][ \t]+")
_DURATION = re.compile(r"[ \t]*(\d+)[ \t]*d[ \t]*", re.IGNORECASE)


def parse_outline(text: str) -> list[OutlineLine]:
    """The items of a pasted outline, in order (syntax in the module docstring)."""
    lines = [
        (number, raw)
        for number, raw in enumerate(text.splitlines(), start=1)
        if raw.strip(" \t\r\n\f\v")
    ]
    stripped = [raw.lstrip(" \t") for _, raw in lines]
    numbered = bool(lines) and all(_NUMBER.fullmatch(line) for line in stripped)
    result: list[OutlineLine] = []
    levels: list[str] = []  # indentation of each open level, outermost first
    for (number, raw), line in zip(lines, stripped, strict=True):
        if numbered:
            match = _NUMBER.fullmatch(line)
            assert match is not None
            depth = match.group(1).count(".")
            if depth > (result[-1].depth + 1 if result else 0):
                raise DepthJump(number)
            line = match.group(2)
        else:
            depth = _depth(raw[: len(raw) - len(line)], levels, number)
        line = _BULLET.sub("", line, count=1) if _BULLET.match(line) else line
        name, duration = _name_and_duration(line, number)
        result.append(OutlineLine(depth, name, duration))
    return result


def _depth(indentation: str, levels: list[str], number: int) -> int:
    """Depth of a line from its indentation; ``levels`` is updated to the line's level."""
    if not levels:
        levels.append(indentation)
        return 0
    if indentation == levels[-1]:
        return len(levels) - 1
    if indentation.startswith(levels[-1]):
        levels.append(indentation)
        return len(levels) - 1
    if indentation in levels:
        del levels[levels.index(indentation) + 1 :]
        return len(levels) - 1
    raise IndentMismatch(number)


def _name_and_duration(line: str, number: int) -> tuple[str, int | None]:
    duration = None
    if "|" in line:
        line, _, tail = line.rpartition("|")
        match = _DURATION.fullmatch(tail)
        if match is None:
            raise BadDuration(number)
        duration = int(match.group(1))
    name = line.strip()
    if not name:
        raise EmptyName(number)
    return name, duration


def outline_parents(lines: Sequence[OutlineLine]) -> list[int | None]:
    """For each line of ``parse_outline``'s result, the index of its parent line (None at
    the top)."""
    parents: list[int | None] = []
    open_levels: list[int] = []  # index of the last line seen at each depth
    for k, line in enumerate(lines):
        del open_levels[line.depth :]
        parents.append(open_levels[-1] if open_levels else None)
        open_levels.append(k)
    return parents

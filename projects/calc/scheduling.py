"""Critical path method (CPM) on a working calendar: early and late dates, floats, critical path.

Hand-written because no well-kept library does CPM on working calendars with all four link
types (FS, SS, FF, SF), lags and leads, milestones, actual dates and WBS summaries; networkx
finds longest paths in plain weighted graphs and serves as the independent check in tests
(``tests/projects/test_scheduling.py``) and in ``bench/projects.py``.

Time model. Working days of the project calendar are numbered from the project's first
working day on or after ``start`` (index 0, see ``calendar.Axis``); computing runs on these
integers and turns them into dates at the end. A *point* ``p`` is the beginning of working
day ``p`` (the same instant as the end of day ``p - 1``). An item of ``d`` days starting at
point ``s`` is worked on days ``s .. s + d - 1`` and finishes at point ``f = s + d``: it shows
``early_start = day(s)`` and ``early_finish = day(f - 1)``, so a 1-day item starts and
finishes on the same day. A link ``pred -> succ`` with lag ``n`` (working days, negative for
a lead) requires, as API.md words it (a start is the beginning of its day, a finish the end)::

    FS: succ.start  >= pred.finish + n        SS: succ.start  >= pred.start + n
    FF: succ.finish >= pred.finish + n        SF: succ.finish >= pred.start + n

so an FS successor with lag 0 starts on the next working day after its predecessor's last
day. Every start is at point 0 or later, whatever the links say.

Milestones (0 days) follow the day-number convention of the textbooks, which is API.md's:
a milestone shows one day, ``m``, as its start and finish; as a predecessor its start is the
beginning of day ``m`` and its finish the end of it. The one exception API.md spells out ("a
milestone is on the working day its predecessors finish, the project start if it has none"):
an FS link INTO a milestone is met on the predecessor's last day, i.e. it binds the
milestone's finish like an FF link would. So, with predecessor P and successor S:

- P (3 days, days 0-2) FS -> milestone: on day 2; milestone FS -> S: S starts on day 3 (a
  milestone inserted between two FS-linked items moves nothing);
- milestone without predecessors: on day 0; its FS successors start on day 1, its SS
  successors on day 0;
- P SS -> milestone: on P's first day; P FF -> milestone: on P's last day;
- milestone SS -> S: S starts on the milestone's day (FS: on the next working day);
  milestone FF -> S: S finishes on the milestone's day or later; milestone SF -> S: S
  finishes on the day before the milestone or later (a start is the beginning of its day).

Internally a milestone is therefore a one-day box whose incoming FS links act as FF links.

Constraints and actual dates:

- ``start_no_earlier_than``: on a non-working day it moves to the next working day; before
  the project start it has no effect. On a summary it applies to every descendant leaf.
- An item with actual dates is where they say, whatever its links (progress overrides
  logic): links into it are ignored in both passes, so they neither push it nor cut its
  predecessors' float. ``actual_start`` without ``actual_finish``: the item is forecast to
  finish its planned duration after the actual start (the remaining work goes as planned).
  ``actual_finish`` without ``actual_start``: it took its planned duration. Both: its duration
  follows them. An actual start on a non-working day moves to the next working day, an actual
  finish to the previous one; a span without any working day counts as the working day after
  it; dates before the project start are moved to it. A planned milestone stays a milestone,
  on ``actual_finish`` or else ``actual_start`` (the previous working day if not worked).

Summaries (WBS parents) are the items some item names as ``parent``. Only leaves (work
packages and milestones) carry durations: a summary's own ``duration`` and actual dates are
ignored. A link INTO a summary constrains every descendant leaf as if linked to each (as MS
Project does, here for all four link types); a link OUT OF a summary uses its rolled-up start
(the earliest descendant start) and finish (the latest descendant finish). A link between an
item and its own ancestor is refused. Internally a summary is two nodes, so the network stays
acyclic: a *gate* that receives the incoming links and passes their bounds down to the
children, and a *roll-up* that takes the min start / max finish of the children and feeds the
outgoing links. Only summaries that need them get these nodes (when the summary or an
ancestor has links in / out).

Backward pass: the project finish ``F`` is the latest leaf finish; items without successors
have late finish ``F`` and no late finish runs past it. Each link gives the mirrored bound
(e.g. SS lag n: pred.late_start <= succ.late_start - n). A roll-up's late finish bounds every
child's late finish (the summary finishes when its last child does). Its late start bounds
only the children whose early start *is* the summary's early start (those driving it):
delaying any other child alone cannot delay the summary's start. The late schedule stays
feasible and, there being no deadlines, no float is negative.

Floats are in working days. Total float = late start - early start. Free float = how far an
item can slip without delaying any successor's early dates or the project finish (through a
link into a summary, the successors are its descendant leaves; slipping the child that
finishes a summary, or drives its start, counts the summary's successors). A summary shows
the earliest start / latest finish of its descendants (early and late alike), and as floats
the smallest total and free float among its descendants (so a summary holding a critical
item is critical). ``critical`` is total float <= 0; ``critical_path`` lists the critical
leaves (not summaries) by early start, then early finish, then input order.

An empty project (no items) starts and finishes on the first working day on or after
``start`` and lasts 0 days; otherwise ``start`` is that day too, ``finish`` the latest early
finish and ``duration_days`` the working days from start to finish, both included.

Errors carry ids, never words (the caller writes those); all derive from ``ScheduleError``.
"""

from __future__ import annotations

import graphlib
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from projects.calc.calendar import Axis, WorkCalendar

LINK_TYPES = ("FS", "SS", "FF", "SF")

# Edge codes of the internal network: out[u] holds (v, code, lag).
_FS, _SS, _FF, _SF = 0, 1, 2, 3  # links as given (FS into a milestone becomes _FF)
_FS_GATE = 4  # an FS link into a summary: kept apart, milestones below take it as FF
_GATE_TASK = 5  # gate -> a work package: start >= max(SS and FS bounds), finish >= FF bound
_GATE_MILESTONE = 6  # gate -> a milestone: start >= SS bound, finish >= max(FS and FF bounds)
_GATE_GATE = 7  # gate -> a child summary's gate: each bound passes down
_ROLL = 8  # a child -> its summary's roll-up: roll-up start = min, finish = max
_IGNORED = 9  # into an item with actual dates: orders and closes cycles, constrains nothing
_CODE_OF = {"FS": _FS, "SS": _SS, "FF": _FF, "SF": _SF}

# Node kinds.
_LEAF, _GATE_NODE, _ROLL_NODE = 0, 1, 2

# Beyond any schedule: a bound that nothing constrains.
_INF = 1 << 62


# --- Errors ----------------------------------------------------------------------------------


class ScheduleError(ValueError):
    """The items or links cannot be scheduled. Subclasses carry the ids concerned."""


class DuplicateItemError(ScheduleError):
    def __init__(self, item: Hashable) -> None:
        super().__init__(item)
        self.item = item


class UnknownItemError(ScheduleError):
    """A link or a parent names an id that is not among the items."""

    def __init__(self, item: Hashable) -> None:
        super().__init__(item)
        self.item = item


class NegativeDurationError(ScheduleError):
    def __init__(self, item: Hashable, duration: int) -> None:
        super().__init__(item, duration)
        self.item = item
        self.duration = duration


class ParentCycleError(ScheduleError):
    """``items``: the items whose parents loop, each one's parent being the next."""

    def __init__(self, items: list[Hashable]) -> None:
        super().__init__(items)
        self.items = items


class ActualDatesError(ScheduleError):
    """``actual_finish`` is before ``actual_start``."""

    def __init__(self, item: Hashable) -> None:
        super().__init__(item)
        self.item = item


class LinkTypeError(ScheduleError):
    def __init__(self, predecessor: Hashable, successor: Hashable, type: str) -> None:
        super().__init__(predecessor, successor, type)
        self.predecessor = predecessor
        self.successor = successor
        self.type = type


class SelfLinkError(ScheduleError):
    def __init__(self, item: Hashable) -> None:
        super().__init__(item)
        self.item = item


class DuplicateLinkError(ScheduleError):
    """Two links between the same predecessor and successor (whatever their types)."""

    def __init__(self, predecessor: Hashable, successor: Hashable) -> None:
        super().__init__(predecessor, successor)
        self.predecessor = predecessor
        self.successor = successor


class AncestorLinkError(ScheduleError):
    """A link between an item and one of its own ancestors (in either direction)."""

    def __init__(self, predecessor: Hashable, successor: Hashable) -> None:
        super().__init__(predecessor, successor)
        self.predecessor = predecessor
        self.successor = successor


class CycleError(ScheduleError):
    """The links loop. ``items``: the work items on the loop in order, each one linked to the
    next (or containing it: a link into a summary reaches its descendants), the last one
    linked back to the first. ``links``: the links of the loop, in the same order."""

    def __init__(self, items: list[Hashable], links: list[Link]) -> None:
        super().__init__(items)
        self.items = items
        self.links = links


# --- Data ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    predecessor: Hashable
    successor: Hashable
    type: str = "FS"
    lag: int = 0


@dataclass(frozen=True, slots=True)
class Item:
    id: Hashable
    duration: int = 0
    parent: Hashable | None = None
    start_no_earlier_than: date | None = None
    actual_start: date | None = None
    actual_finish: date | None = None


# Results are not frozen: building 10,000 frozen instances costs as much as the forward pass.
@dataclass(slots=True)
class ItemSchedule:
    early_start: date
    early_finish: date
    late_start: date
    late_finish: date
    total_float: int
    free_float: int
    critical: bool
    is_summary: bool


@dataclass(slots=True)
class Schedule:
    start: date
    finish: date
    duration_days: int
    critical_path: list[Hashable]
    items: dict[Hashable, ItemSchedule]


# --- The tree and the network ----------------------------------------------------------------


class _Tree:
    """Items by input position: parent index (-1 for a root), children, summaries."""

    def __init__(self, ids: list[Hashable], parent_ids: list[Hashable | None]) -> None:
        n = len(ids)
        index = dict(zip(ids, range(n), strict=True))
        if len(index) < n:
            seen: set[Hashable] = set()
            for item_id in ids:
                if item_id in seen:
                    raise DuplicateItemError(item_id)
                seen.add(item_id)
        try:
            parent = [-1 if p is None else index[p] for p in parent_ids]
        except KeyError as missing:
            raise UnknownItemError(missing.args[0]) from None
        children: list[list[int]] = [[] for _ in range(n)]
        for i, p in enumerate(parent):
            if p != -1:
                children[p].append(i)
        # Parents before children, so flags can flow down and roll-ups up. Whatever this
        # walk from the roots misses hangs on a loop of parents.
        top_down = [i for i in range(n) if parent[i] == -1]
        for i in top_down:
            top_down.extend(children[i])
        if len(top_down) < n:
            reached = set(top_down)
            j = next(i for i in range(n) if i not in reached)
            walk: dict[int, int] = {}
            while j not in walk:
                walk[j] = len(walk)
                j = parent[j]
            loop = list(walk)[walk[j] :]
            raise ParentCycleError([ids[k] for k in loop])
        self.ids = ids
        self.index = index
        self.parent = parent
        self.children = children
        self.summary = [bool(c) for c in children]
        self.top_down = top_down

    def is_ancestor(self, ancestor: int, item: int) -> bool:
        j = self.parent[item]
        while j != -1:
            if j == ancestor:
                return True
            j = self.parent[j]
        return False


class _Links:
    """Links by item index, in parallel lists, validated."""

    def __init__(self, tree: _Tree, links: Sequence[Link], *, refuse_duplicates: bool) -> None:
        index = tree.index
        try:
            predecessors = [index[link.predecessor] for link in links]
            successors = [index[link.successor] for link in links]
            codes = [_CODE_OF[link.type] for link in links]
        except KeyError:
            for link in links:  # the first culprit, in input order
                for end in (link.predecessor, link.successor):
                    if end not in index:
                        raise UnknownItemError(end) from None
                if link.type not in _CODE_OF:
                    raise LinkTypeError(link.predecessor, link.successor, link.type) from None
            raise
        if any(map(int.__eq__, predecessors, successors)):
            k = next(k for k, link in enumerate(links) if predecessors[k] == successors[k])
            raise SelfLinkError(links[k].predecessor)
        n = len(tree.ids)
        if refuse_duplicates:
            keys = [u * n + v for u, v in zip(predecessors, successors, strict=True)]
            if len(set(keys)) < len(keys):
                seen: set[int] = set()
                for k, key in enumerate(keys):
                    if key in seen:
                        raise DuplicateLinkError(links[k].predecessor, links[k].successor)
                    seen.add(key)
        summary = tree.summary
        if any(summary):
            for k, (u, v) in enumerate(zip(predecessors, successors, strict=True)):
                if (summary[u] and tree.is_ancestor(u, v)) or (
                    summary[v] and tree.is_ancestor(v, u)
                ):
                    raise AncestorLinkError(links[k].predecessor, links[k].successor)
        self.predecessors = predecessors
        self.successors = successors
        self.codes = codes
        self.lags = [link.lag for link in links]


class _Network:
    """The graph the passes run on. Node ``i < n`` is item ``i``: a leaf, or a summary's gate
    (without edges when the summary needs none); roll-ups are numbered from ``n`` on.
    ``out[u] = [(v, code, lag), ...]``; ``indegree[u]`` counts the edges into ``u``."""

    def __init__(
        self,
        tree: _Tree,
        links: _Links,
        fixed: Sequence[bool] | None = None,
        milestone: Sequence[bool] | None = None,
    ) -> None:
        n = len(tree.ids)
        summary, parent, children = tree.summary, tree.parent, tree.children
        kind = [_GATE_NODE if is_summary else _LEAF for is_summary in summary]
        exit_ = list(range(n))  # the node a link out of an item starts from
        roll_item: list[int] = []
        need_gate = [False] * n
        if any(summary):
            has_in = set(links.successors)
            has_out = set(links.predecessors)
            # A summary needs its gate if it or an ancestor receives links, a roll-up if it
            # or an ancestor sends links (a parent's roll-up is fed by its children's).
            need_roll = [False] * n
            for i in tree.top_down:
                if summary[i]:
                    p = parent[i]
                    need_gate[i] = i in has_in or (p != -1 and need_gate[p])
                    need_roll[i] = i in has_out or (p != -1 and need_roll[p])
                    if need_roll[i]:
                        exit_[i] = n + len(roll_item)
                        roll_item.append(i)
                        kind.append(_ROLL_NODE)
                    else:
                        exit_[i] = -1
        size = len(kind)
        out: list[list[tuple[int, int, int]]] = [[] for _ in range(size)]
        indegree = [0] * size
        for v, count in Counter(links.successors).items():
            indegree[v] = count
        no = [False] * n
        fixed = fixed if fixed is not None else no
        milestone = milestone if milestone is not None else no
        # The code of an FS link depends on its successor (see _FS_GATE, _FF for milestones).
        fs_code = [
            _IGNORED if fixed[i] else _FS_GATE if summary[i] else _FF if milestone[i] else _FS
            for i in range(n)
        ]
        edges = zip(links.predecessors, links.successors, links.codes, links.lags, strict=True)
        if not any(fixed) and not any(summary) and not any(milestone):
            for u, v, code, lag in edges:
                out[u].append((v, code, lag))
        else:
            for u, v, code, lag in edges:
                if code == _FS:
                    code = fs_code[v]
                elif fixed[v]:
                    code = _IGNORED
                out[exit_[u]].append((v, code, lag))
        for i in range(n) if any(need_gate) else roll_item:
            if not summary[i]:
                continue
            roll = exit_[i]
            for c in children[i]:
                if need_gate[i]:
                    if fixed[c]:
                        code = _IGNORED
                    elif summary[c]:
                        code = _GATE_GATE
                    else:
                        code = _GATE_MILESTONE if milestone[c] else _GATE_TASK
                    out[i].append((c, code, 0))
                    indegree[c] += 1
                if roll != -1:
                    out[exit_[c]].append((roll, _ROLL, 0))
                    indegree[roll] += 1

        self.tree = tree
        self.kind = kind
        self.exit = exit_
        self.roll_item = roll_item
        self.out = out
        self.indegree = indegree

    def item_of(self, node: int) -> int:
        n = len(self.tree.ids)
        return node if node < n else self.roll_item[node - n]

    def cycle_error(self, cycle: Sequence[int], links: Iterable[Link]) -> CycleError:
        """Turn a loop of nodes (each one an immediate predecessor of the next) into the
        work items and links on it."""
        kind, ids = self.kind, self.tree.ids
        ring = list(cycle)
        if len(ring) > 1 and ring[0] == ring[-1]:
            ring.pop()
        hops: list[tuple[int, int]] = []
        for k, a in enumerate(ring):
            b = ring[(k + 1) % len(ring)]
            # Links run from a leaf or a roll-up to a leaf or a gate; every other edge is
            # the inside of a summary.
            if kind[a] != _GATE_NODE and kind[b] != _ROLL_NODE:
                hops.append((self.item_of(a), self.item_of(b)))
        # Start from the predecessor that comes first in the input, for a stable answer.
        first = min(range(len(hops)), key=lambda k: hops[k][0])
        hops = hops[first:] + hops[:first]
        by_ends = {(link.predecessor, link.successor): link for link in links}
        items: list[int] = []
        for u, v in hops:
            for i in (u, v):
                if not items or items[-1] != i:
                    items.append(i)
        if len(items) > 1 and items[-1] == items[0]:
            items.pop()
        return CycleError([ids[i] for i in items], [by_ends[(ids[u], ids[v])] for u, v in hops])

    def find_cycle(self, indegree_left: list[int]) -> list[int]:
        """A loop among the nodes Kahn could not order (in-degree left > 0), by graphlib."""
        rest = [u for u, left in enumerate(indegree_left) if left]
        predecessors: dict[int, list[int]] = {u: [] for u in rest}
        for u in rest:
            for v, _, _ in self.out[u]:
                if indegree_left[v]:
                    predecessors[v].append(u)
        try:
            graphlib.TopologicalSorter(predecessors).prepare()
        except graphlib.CycleError as error:
            cycle: list[int] = error.args[1]
            return cycle
        raise AssertionError("Kahn left nodes unordered without a cycle")  # pragma: no cover


# --- Public functions ------------------------------------------------------------------------


def would_close_cycle(
    links: Iterable[Link], new_link: Link, parents: Mapping[Hashable, Hashable | None]
) -> list[Hashable] | None:
    """The work items on the loop that ``new_link`` would close (as ``CycleError.items``),
    or None if it closes none.

    ``parents`` maps every work item of the project to its parent (None at the top), so that
    links into and out of summaries count. Raises like ``compute`` for a new link that is
    invalid for another reason (unknown id or type, to itself, to its own ancestor); does not
    look for duplicates (``compute`` refuses them). Cost: one pass over the items and links,
    then a search from the new link's successor.
    """
    every_link = [*links, new_link]
    tree = _Tree(list(parents), list(parents.values()))
    _Links(tree, [new_link], refuse_duplicates=False)  # the new link's own faults first
    network = _Network(tree, _Links(tree, every_link, refuse_duplicates=False))
    u, v = tree.index[new_link.predecessor], tree.index[new_link.successor]
    source, target = network.exit[u], v
    # Walk from the new link's successor; reaching its predecessor closes the loop.
    came_from = {target: target}
    frontier = [target]
    out = network.out
    while frontier and source not in came_from:
        next_frontier = []
        for node in frontier:
            for w, _, _ in out[node]:
                if w not in came_from:
                    came_from[w] = node
                    next_frontier.append(w)
        frontier = next_frontier
    if source not in came_from:
        return None
    path = [source]
    while path[-1] != target:
        path.append(came_from[path[-1]])
    path.reverse()  # target ... source; the new link closes it back to target
    return network.cycle_error([source, *path], every_link).items


def compute(
    items: Sequence[Item], links: Sequence[Link], *, calendar: WorkCalendar, start: date
) -> Schedule:
    """The schedule of ``items`` linked by ``links`` on ``calendar``, from ``start`` on.

    Raises a ``ScheduleError`` subclass for invalid input (see the module docstring)."""
    axis = Axis(calendar, start)
    tree = _Tree([item.id for item in items], [item.parent for item in items])
    n = len(items)
    summary, parent = tree.summary, tree.parent

    # Leaves' own points: the start bound (project start, start-no-earlier-than), or where
    # actual dates fix them. A milestone is a one-day box (see the module docstring).
    duration = [0] * n
    lower = [0] * n
    fixed = [False] * n
    milestone = [False] * n
    snet_on_summaries = any(
        summary[i] and items[i].start_no_earlier_than is not None for i in range(n)
    )
    for i, item in enumerate(items):
        d = item.duration
        if d < 0:
            raise NegativeDurationError(item.id, d)
        if summary[i]:
            continue
        milestone[i] = d == 0
        if item.actual_start is not None or item.actual_finish is not None:
            s, f = _actual_points(item, axis)
            fixed[i] = True
            lower[i] = s
            duration[i] = f - s
            continue
        duration[i] = d or 1
        snet = item.start_no_earlier_than
        if snet_on_summaries:
            j = parent[i]
            while j != -1:
                inherited = items[j].start_no_earlier_than
                if inherited is not None and (snet is None or inherited > snet):
                    snet = inherited
                j = parent[j]
        if snet is not None:
            lower[i] = max(0, axis.index_on_or_after(snet))

    network = _Network(tree, _Links(tree, links, refuse_duplicates=True), fixed, milestone)
    out, kind, indegree = network.out, network.kind, network.indegree
    size = len(out)
    rolls = size - n
    dur = duration + [0] * rolls

    # Forward pass, ordering the nodes as it goes (Kahn). For leaves and gates ``low_s`` /
    # ``low_f`` are the bounds on start and finish pushed by predecessors (``low_x``: a gate's
    # bound from FS links); for roll-ups the running min start / max finish of the children.
    low_s = lower + [_INF] * rolls
    low_f = [0] * n + [-_INF] * rolls
    low_x = [0] * size
    early_s = [0] * size
    early_f = [0] * size
    order = [u for u in range(size) if not indegree[u]]
    for u in order:
        s = low_s[u]
        if kind[u] == _LEAF:
            d = dur[u]
            if low_f[u] - d > s:
                s = low_f[u] - d
            f = s + d
        else:
            f = low_f[u]
        early_s[u] = s
        early_f[u] = f
        for v, code, lag in out[u]:
            if code == _FS:
                if f + lag > low_s[v]:
                    low_s[v] = f + lag
            elif code == _SS:
                if s + lag > low_s[v]:
                    low_s[v] = s + lag
            elif code == _FF:
                if f + lag > low_f[v]:
                    low_f[v] = f + lag
            elif code == _SF:
                if s + lag > low_f[v]:
                    low_f[v] = s + lag
            elif code == _ROLL:
                if s < low_s[v]:
                    low_s[v] = s
                if f > low_f[v]:
                    low_f[v] = f
            elif code == _FS_GATE:
                if f + lag > low_x[v]:
                    low_x[v] = f + lag
            elif code == _GATE_TASK:
                x = low_x[u] if low_x[u] > s else s
                if x > low_s[v]:
                    low_s[v] = x
                if f > low_f[v]:
                    low_f[v] = f
            elif code == _GATE_MILESTONE:
                if s > low_s[v]:
                    low_s[v] = s
                x = low_x[u] if low_x[u] > f else f
                if x > low_f[v]:
                    low_f[v] = x
            elif code == _GATE_GATE:
                if s > low_s[v]:
                    low_s[v] = s
                if low_x[u] > low_x[v]:
                    low_x[v] = low_x[u]
                if f > low_f[v]:
                    low_f[v] = f
            left = indegree[v] - 1
            indegree[v] = left
            if not left:
                order.append(v)
    if len(order) < size:
        raise network.cycle_error(network.find_cycle(indegree), links)

    finish = max((early_f[i] for i in range(n) if not summary[i]), default=0)

    # Backward pass, with free float in the same sweep: every successor is done before its
    # predecessors. For gates and roll-ups, ``slack_s`` / ``slack_x`` / ``slack_f``: how far
    # each bound or rolled-up date can move without delaying a leaf's early dates or the
    # project finish. Free float stops at leaves, whose slack stays 0.
    late_s = [0] * size
    late_f = [0] * size
    late_x = [0] * size
    slack_s = [0] * size
    slack_f = [0] * size
    slack_x = [0] * size
    free = [0] * size
    for u in reversed(order):
        if kind[u] == _GATE_NODE:
            s, x, f = low_s[u], low_x[u], low_f[u]
            cap_s = cap_x = cap_f = free_s = free_x = free_f = _INF
            for v, code, _ in out[u]:
                if code == _GATE_TASK:
                    cap_s = min(cap_s, late_s[v])
                    cap_x = min(cap_x, late_s[v])
                    cap_f = min(cap_f, late_f[v])
                    free_s = min(free_s, early_s[v] - s)
                    free_x = min(free_x, early_s[v] - x)
                    free_f = min(free_f, early_f[v] - f)
                elif code == _GATE_MILESTONE:
                    cap_s = min(cap_s, late_s[v])
                    cap_x = min(cap_x, late_f[v])
                    cap_f = min(cap_f, late_f[v])
                    free_s = min(free_s, early_s[v] - s)
                    free_x = min(free_x, early_f[v] - x)
                    free_f = min(free_f, early_f[v] - f)
                elif code == _GATE_GATE:
                    cap_s = min(cap_s, late_s[v])
                    cap_x = min(cap_x, late_x[v])
                    cap_f = min(cap_f, late_f[v])
                    free_s = min(free_s, low_s[v] - s + slack_s[v])
                    free_x = min(free_x, low_x[v] - x + slack_x[v])
                    free_f = min(free_f, low_f[v] - f + slack_f[v])
            late_s[u], late_x[u], late_f[u] = cap_s, cap_x, cap_f
            slack_s[u], slack_x[u], slack_f[u] = free_s, free_x, free_f
            continue
        s, f = early_s[u], early_f[u]
        cap_s, cap_f = _INF, finish
        free_s, free_f = _INF, finish - f
        for v, code, lag in out[u]:
            if code == _FS:  # into a work package, whose slack is 0
                if late_s[v] - lag < cap_f:
                    cap_f = late_s[v] - lag
                if early_s[v] - f - lag < free_f:
                    free_f = early_s[v] - f - lag
            elif code == _SS:
                if late_s[v] - lag < cap_s:
                    cap_s = late_s[v] - lag
                if early_s[v] - s - lag + slack_s[v] < free_s:
                    free_s = early_s[v] - s - lag + slack_s[v]
            elif code == _FF:
                if late_f[v] - lag < cap_f:
                    cap_f = late_f[v] - lag
                if early_f[v] - f - lag + slack_f[v] < free_f:
                    free_f = early_f[v] - f - lag + slack_f[v]
            elif code == _SF:
                if late_f[v] - lag < cap_s:
                    cap_s = late_f[v] - lag
                if early_f[v] - s - lag + slack_f[v] < free_s:
                    free_s = early_f[v] - s - lag + slack_f[v]
            elif code == _ROLL:
                if late_f[v] < cap_f:
                    cap_f = late_f[v]
                if early_f[v] - f + slack_f[v] < free_f:
                    free_f = early_f[v] - f + slack_f[v]
                if s == early_s[v]:  # this child drives the summary's start
                    if late_s[v] < cap_s:
                        cap_s = late_s[v]
                    if slack_s[v] < free_s:
                        free_s = slack_s[v]
            elif code == _FS_GATE:
                if late_x[v] - lag < cap_f:
                    cap_f = late_x[v] - lag
                if low_x[v] - f - lag + slack_x[v] < free_f:
                    free_f = low_x[v] - f - lag + slack_x[v]
        if kind[u] == _LEAF:
            d = dur[u]
            if cap_s + d < cap_f:
                cap_f = cap_s + d
            late_f[u] = cap_f
            late_s[u] = cap_f - d
            free[u] = free_s if free_s < free_f else free_f
        else:
            late_s[u] = cap_s
            late_f[u] = cap_f
            slack_s[u] = free_s
            slack_f[u] = free_f

    return _assemble(items, tree, axis, finish, early_s, early_f, late_s, late_f, free)


def _actual_points(item: Item, axis: Axis) -> tuple[int, int]:
    """Start and finish points of an item with actual dates (see the module docstring)."""
    actual_start, actual_finish = item.actual_start, item.actual_finish
    if actual_start is not None and actual_finish is not None and actual_finish < actual_start:
        raise ActualDatesError(item.id)
    if item.duration == 0:  # a milestone: one day
        when = actual_finish if actual_finish is not None else actual_start
        assert when is not None
        m = max(0, axis.index_on_or_before(when))
        return m, m + 1
    if actual_start is not None:
        s = max(0, axis.index_on_or_after(actual_start))
        if actual_finish is None:
            return s, s + item.duration
        f = axis.index_on_or_before(actual_finish) + 1
        return s, max(f, s + 1)  # a span without working days counts as the day after it
    assert actual_finish is not None
    f = max(1, axis.index_on_or_before(actual_finish) + 1)
    return max(0, f - item.duration), f


def _assemble(
    items: Sequence[Item],
    tree: _Tree,
    axis: Axis,
    finish: int,
    early_s: list[int],
    early_f: list[int],
    late_s: list[int],
    late_f: list[int],
    free: list[int],
) -> Schedule:
    """Points to dates (day indices shown: start ``s``, finish ``f - 1``); summaries roll
    their children up. Leaf ``i`` is node ``i``."""
    n = len(items)
    summary, children = tree.summary, tree.children
    shown_es = early_s[:n]
    shown_ef = [f - 1 for f in early_f[:n]]
    shown_ls = late_s[:n]
    shown_lf = [f - 1 for f in late_f[:n]]
    total = [late - early for late, early in zip(shown_ls, shown_es, strict=True)]
    free_float = free[:n]
    for i in reversed(tree.top_down):
        if summary[i]:
            kids = children[i]
            shown_es[i] = min([shown_es[c] for c in kids])
            shown_ef[i] = max([shown_ef[c] for c in kids])
            shown_ls[i] = min([shown_ls[c] for c in kids])
            shown_lf[i] = max([shown_lf[c] for c in kids])
            total[i] = min([total[c] for c in kids])
            free_float[i] = min([free_float[c] for c in kids])

    days = axis.dates(max(finish, 1))
    ids = tree.ids
    schedules = {
        ids[i]: ItemSchedule(
            days[shown_es[i]],
            days[shown_ef[i]],
            days[shown_ls[i]],
            days[shown_lf[i]],
            total[i],
            free_float[i],
            total[i] <= 0,
            summary[i],
        )
        for i in range(n)
    }
    critical = [i for i in range(n) if not summary[i] and total[i] <= 0]
    critical.sort(key=lambda i: (shown_es[i], shown_ef[i], i))
    return Schedule(
        start=days[0],
        finish=days[finish - 1] if finish else days[0],
        duration_days=finish,
        critical_path=[ids[i] for i in critical],
        items=schedules,
    )

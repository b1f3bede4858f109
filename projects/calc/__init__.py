"""Pure calculations of project follow-up: no Django, no Celery, no I/O.

The scheduler (critical path), the WBS roll-up and earned value live here as plain
functions of plain data, so they are tested on textbook cases without a database and
read the same from a service, a task or a benchmark. import-linter keeps it so.
"""

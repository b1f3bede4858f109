"""Pure calculations of the risk register: no Django, no Celery, no I/O.

Risk scoring (probability x impact on an organization's 5x5 matrix, inherent and residual
ratings, key risk indicator zones) and FMEA (RPN and the AIAG-VDA Action Priority) live here
as plain functions of plain data, so they are tested on textbook cases without a database
and read the same from a service, a task or a benchmark.
"""

"""The job engine of a PostgreSQL station: procrastinate runs the pipeline's jobs.

- ``tickets``: the procrastinate job (a ticket) behind each queued ``job`` row, written in
  the producer's own transaction; no procrastinate import until one is written;
- ``app``: the procrastinate app of a station and the one task that runs a ticket's row;
- ``upkeep``: taking over the jobs of dead workers, and tickets for rows that lack one;
- ``runner``: a worker, serving until stopped (``hotline worker``) or draining the queue
  (``hotline process``).

Importing this package imports none of them: everyday commands never load procrastinate.
"""

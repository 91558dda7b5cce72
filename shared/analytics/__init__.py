"""Analyst access: the read-only role, report queries, plots and the self-contained HTML report.

Layout: `roles` (Postgres role and grants), `queries` (SQLAlchemy reads into plain records,
SQLite and Postgres alike), `sources` (image URLs and thumbnails from the object store),
`plots` and `render` (pure: records in, PNG/HTML out), `report` (glue for `adgen report`).
"""

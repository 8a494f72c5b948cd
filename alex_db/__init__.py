"""alex-db: the Aurora PostgreSQL database layer of the Alex platform, as a Pulumi program.

The Pulumi program itself is the project's ``__main__.py``; this package holds its components,
the pure rules they follow, and the ``python -m alex_db`` tools (plan, check, env).
"""

"""alex-db: the Aurora PostgreSQL database layer of the Alex platform, as a Pulumi program.

The program itself is the project's ``__main__.py``. Data flows through three rooms, each
importing only those below it: ``config`` (pure rules) -> ``infra`` (components) -> ``tools``.
"""

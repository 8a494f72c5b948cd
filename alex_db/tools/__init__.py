"""The ``alex-db`` tools on top of the program: ``plan`` (offline runner, stack files), ``check``
and ``env`` (deployed ARNs, ``.env``), and the command line that dispatches them.

May import ``alex_db.infra``, ``alex_db.config`` and ``boto3``; nothing imports this package.
"""

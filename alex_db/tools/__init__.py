"""The ``alex-db`` tools on top of the program: ``plan`` (offline runner, stack files),
``preflight`` (the account before the first deploy), ``check`` and ``env`` (deployed ARNs,
``.env``), ``local`` (a local Data API), and the command line that dispatches them.

May import ``alex_db.infra``, ``alex_db.config`` and ``boto3``; neither of them imports this
package, nor does the Pulumi program.
"""

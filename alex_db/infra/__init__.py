"""The Pulumi components (credentials, encryption, network, database, backup, monitoring,
alarms, Lambda access) and what they need: IAM documents, physical names, setup instructions.

May import ``alex_db.config``, ``pulumi`` and the providers; never ``alex_db.tools`` or ``boto3``.
"""

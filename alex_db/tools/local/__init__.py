"""``alex-db local``: a real PostgreSQL behind an RDS Data API endpoint on 127.0.0.1.

Alex's code talks to the database only through boto3's ``rds-data`` client, and boto3 sends that
client wherever ``AWS_ENDPOINT_URL_RDS_DATA`` points. So a server that speaks the Data API's wire
format (botocore's ``rds-data`` service model) over a real PostgreSQL lets every Lambda, script
and test run offline, unchanged. One module per job: ``postgres`` (the server process and its
data directory), ``named_parameters`` and ``parameters`` (``:name`` parameters in), ``results``
(rows out), ``service`` (the five operations, transactions, errors, auto-pause), ``endpoint``
(HTTP).
"""

"""Pure configuration rules: stack config -> typed, validated settings, profiles, versions, cost.

May import the standard library only (no ``pulumi``, providers or ``boto3``), so every rule is
testable without an engine; ``make lint`` enforces it with import-linter.
"""

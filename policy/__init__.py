"""Policy: who is asking and what they may see.

    principal     the caller as the token describes them
    auth/         bearer JWTs from trusted issuers → principal
    centres       the one table of the five centres (scope, names, GraphQL type)
    masking       how personal data is masked (pure string functions)
    personas      the demo's kinds of user and their claims

Depends on ``onedoor`` (domain primitives) and ``connectors`` only; ``schema``
and ``gateway`` build on it.
"""

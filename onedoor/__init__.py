"""OneDoor: one query layer over the five social-governance service centres.

Shared domain primitives live here (identifiers, regions, the normalised record
model) so that the sandbox, the connectors and the schema agree on them
without importing each other.
"""

__version__ = "0.1.0"

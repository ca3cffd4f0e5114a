"""Persisted queries at the operation stage: Apollo's automatic persisted
queries (APQ) and a safelist from an Apollo persisted query manifest.

APQ lets clients send a hash instead of the document — smaller requests, and
``GET /graphql?extensions=...&variables=...`` URLs that HTTP caches can key::

    → {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab12…"}}}
    ← {"errors": [{"message": "PersistedQueryNotFound",
                   "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]}   (HTTP 200)
    → the same plus "query": "…"     registers it (the hash must match)
    → the hash alone                 now runs the stored document

A safelist (``format: apollo-persisted-query-manifest``, version 1) turns the
gateway into one that runs only the listed operations, asked for by manifest
``id`` (sent as ``sha256Hash``) or by full body; anything else is refused with
``QUERY_NOT_IN_SAFELIST`` before it is parsed. Bodies match exactly or after
normalisation (whitespace and comments do not make an operation new).

The APQ store is a cachetools LRU bounded in *bytes* of documents, not entries,
so clients registering many large documents cannot grow the gateway's memory.
It is per process and holds documents only — nothing about callers.

Example::

    persisted = PersistedQueries(apq=True, manifest=load_manifest(path))
    document = persisted.resolve(request.query, request.extensions)  # or raises
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from graphql import GraphQLError, GraphQLSyntaxError, parse, print_ast

from .settings import PersistedQueriesSettings

__all__ = [
    "Manifest",
    "PersistedQueries",
    "PersistedQueryError",
    "load_manifest",
    "sha256_hex",
]

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
_HASH = re.compile(r"\A[0-9a-fA-F]{64}\Z")


class PersistedQueryError(Exception):
    """A persisted-query refusal: a GraphQL error with a stable ``extensions.code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def as_graphql_error(self) -> GraphQLError:
        return GraphQLError(self.message, extensions={"code": self.code})


def _not_found() -> PersistedQueryError:
    return PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")


def _not_supported() -> PersistedQueryError:
    return PersistedQueryError("PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported")


def _not_listed() -> PersistedQueryError:
    return PersistedQueryError("QUERY_NOT_IN_SAFELIST", "Query not in safelist")


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def _normalised(document: str) -> str | None:
    try:
        return print_ast(parse(document, no_location=True))
    except GraphQLSyntaxError:
        return None


@dataclass(frozen=True, slots=True)
class Manifest:
    by_id: Mapping[str, str]
    bodies: frozenset[str]  # exact and normalised

    def allows(self, document: str) -> bool:
        if document in self.bodies:
            return True
        normal = _normalised(document)
        return normal is not None and normal in self.bodies


def load_manifest(path: Path) -> Manifest:
    """Read and check a manifest; raises ``ValueError`` naming what is wrong (at start-up)."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"safelist manifest {path}: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != MANIFEST_FORMAT or raw.get("version") != 1:
        raise ValueError(f"safelist manifest {path}: not an {MANIFEST_FORMAT} version 1")
    by_id: dict[str, str] = {}
    bodies: set[str] = set()
    for i, op in enumerate(raw.get("operations") or []):
        if not (isinstance(op, dict) and isinstance(op.get("id"), str) and isinstance(op.get("body"), str)):
            raise ValueError(f"safelist manifest {path}: operations[{i}] needs string id and body")
        normal = _normalised(op["body"])
        if normal is None:
            raise ValueError(f"safelist manifest {path}: operations[{i}] ({op.get('name')}) does not parse")
        by_id[op["id"]] = op["body"]
        bodies.update((op["body"], normal))
    return Manifest(by_id=by_id, bodies=frozenset(bodies))


class PersistedQueries:
    def __init__(self, *, apq: bool = True, manifest: Manifest | None = None,
                 max_bytes: int = 4 * 1024 * 1024) -> None:
        self.apq = apq
        self.manifest = manifest
        self._documents: LRUCache[str, str] = LRUCache(maxsize=max_bytes, getsizeof=len)

    @classmethod
    def from_settings(cls, settings: PersistedQueriesSettings) -> PersistedQueries:
        manifest = None if settings.safelist_manifest is None else load_manifest(settings.safelist_manifest)
        return cls(apq=settings.apq, manifest=manifest, max_bytes=settings.apq_max_bytes)

    @property
    def active(self) -> bool:
        return self.apq or self.manifest is not None

    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        """The document to execute (``None``: let the server say "no query").
        Raises :class:`PersistedQueryError`."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if query is not None and self.manifest is not None and not self.manifest.allows(query):
                raise _not_listed()
            return query
        if not self.active or not isinstance(persisted, Mapping) or persisted.get("version") != 1:
            raise _not_supported()
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str):
            raise _not_found()
        if query is not None:
            return self._register(query, digest)
        if self.manifest is not None and (listed := self.manifest.by_id.get(digest)) is not None:
            return listed
        stored = self._documents.get(digest.lower()) if self.apq else None
        if stored is None:  # APQ clients answer NOT_FOUND by sending the body (checked then)
            raise _not_found() if self.apq else _not_listed()
        return stored

    def _register(self, query: str, digest: str) -> str:
        if not _HASH.match(digest) or sha256_hex(query) != digest.lower():
            raise PersistedQueryError("PERSISTED_QUERY_HASH_MISMATCH", "provided sha does not match query")
        if self.manifest is not None and not (
            self.manifest.by_id.get(digest) == query or self.manifest.allows(query)
        ):
            raise _not_listed()
        if self.apq and len(query) <= self._documents.maxsize:
            self._documents[digest.lower()] = query
        return query

"""Each audit test runs against SQLite and, when reachable, PostgreSQL (own schema)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from services.audit import AuditStore, open_audit_store


@dataclass
class Backend:
    kind: str
    url: str

    async def execute(self, *statements: str) -> None:
        """Raw SQL as an attacker with database access would run it (triggers dropped)."""
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            try:
                conn.execute("DROP TRIGGER IF EXISTS audit_record_append_only")
                for sql in statements:
                    conn.execute(sql)
            finally:
                conn.close()
            return
        dsn, _, schema = self.url.partition("?schema=")
        pg = await asyncpg.connect(dsn, server_settings={"search_path": schema})
        try:
            await pg.execute("DROP TRIGGER IF EXISTS audit_record_append_only ON audit_record")
            for sql in statements:
                await pg.execute(sql)
        finally:
            await pg.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'audit.sqlite'}")
        return
    base: str = request.getfixturevalue("postgres_url")
    schema = f"audit_test_{uuid.uuid4().hex[:12]}"
    yield Backend("postgres", f"{base}?schema={schema}")
    conn = await asyncpg.connect(base)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[AuditStore]:
    opened = await open_audit_store(backend.url)
    yield opened
    await opened.aclose()

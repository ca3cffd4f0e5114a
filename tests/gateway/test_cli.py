"""The `onedoor` command's own behaviour: token minting rules, audit verify,
config check, schema."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from gateway.cli import main
from sandbox.idp import load_key
from services.audit import AuditEntry, open_audit_store
from tests.gateway.harness import CENTRES_TOML

CITIZEN = "11010519491231002X"


def _demo_state(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    state.mkdir()
    load_key(state)  # creates the demo identity provider's key, as `onedoor demo` does
    (state / "demo.json").write_text('{"issuer": "http://127.0.0.1:8100", "port": 8000}')
    return state


def test_token_prints_one_line_for_a_persona(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = _demo_state(tmp_path)
    assert main(["token", "--state-dir", str(state), "--persona", "citizen", "--sub", CITIZEN]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.count(".") == 2  # one compact JWS


def test_token_refuses_a_production_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "prod.toml"
    config.write_text(_CONFIG.format(mode="production"))
    assert main(["token", "--config", str(config)]) == 2
    assert "production" in capsys.readouterr().err


def test_token_needs_the_demo_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--state-dir", str(tmp_path)]) == 2
    assert "onedoor demo" in capsys.readouterr().err


def test_citizen_token_needs_a_resident_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--state-dir", str(_demo_state(tmp_path)), "--persona", "citizen"]) == 2
    assert "--sub" in capsys.readouterr().err


def test_audit_verify_detects_an_edit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def write() -> None:
        store = await open_audit_store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
        for n in range(3):
            await store.append(AuditEntry(sub=f"u{n}", client_id="c", operation_name="Q",
                                          document_hash=None, citizens=(CITIZEN,)))
        await store.aclose()

    asyncio.run(write())
    assert main(["audit", "verify", "--state-dir", str(tmp_path)]) == 0
    assert "3 records" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "audit.sqlite") as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        table = next(t for t in tables if "record" in t or "audit" in t)
        db.execute(f"drop trigger if exists {table}_no_update")  # an attacker with file access
        for (trigger,) in db.execute("select name from sqlite_master where type='trigger'").fetchall():
            db.execute(f"drop trigger {trigger}")
        db.execute(f"update {table} set sub = 'someone-else' where seq = 2")
    assert main(["audit", "verify", "--state-dir", str(tmp_path)]) == 1
    assert "record 2" in capsys.readouterr().err


_CONFIG = """
mode = "{mode}"
""" + CENTRES_TOML  # no braces: safe inside str.format


def test_config_check_names_the_bad_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text(_CONFIG.format(mode="production"))
    assert main(["config", "check", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(_CONFIG.format(mode="production") + "\n[limits]\nmax_deph = 3\n")
    assert main(["config", "check", str(bad)]) == 2
    assert "limits.max_deph" in capsys.readouterr().err


def test_schema_prints_the_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert "type Query" in capsys.readouterr().out

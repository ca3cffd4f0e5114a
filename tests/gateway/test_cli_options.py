"""`onedoor` options explain themselves (help on every option, defaults shown),
and `sandbox fault` finds the demo by its state file and answers a stopped demo
with one line, not a traceback."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.processes import free_base_port
from gateway.cli import _parser, main
from onedoor.model import Centre
from sandbox.runner import run_sandbox


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def test_every_option_has_help() -> None:
    missing = []
    for path, parser in _commands(_parser()):
        if path == ("audit", "verify"):  # being reworked in the audit issue
            continue
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
                continue
            if not action.help:
                missing.append(f"onedoor {' '.join(path)} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, missing


@pytest.mark.parametrize(("command", "shown"), [
    (["demo"], ["--port PORT", "(default: 8000)", "(default: .onedoor)", "(default: 7)"]),
    (["sandbox"], ["(default: 127.0.0.1)", "(default: 50.0)"]),
    (["token"], ["(default: caseworker)", "(default: 3600)"]),
    (["serve"], ["(default: 1)"]),
])
def test_help_shows_defaults(command: list[str], shown: list[str],
                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for text in shown:
        assert text in " ".join(out.split()), (text, out)
    assert "(default: None)" not in out


def _state(tmp_path: Path, port: int) -> Path:
    state = tmp_path / "state"
    state.mkdir()
    (state / "demo.json").write_text(json.dumps({"issuer": f"http://127.0.0.1:{port + 100}", "port": port}))
    return state


def test_fault_on_a_stopped_demo_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_base_port()  # nothing listens there: the demo has stopped
    state = _state(tmp_path, port)
    assert main(["sandbox", "fault", "MEDIATION", "--mode", "down", "--state-dir", str(state)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert f"http://127.0.0.1:{port + 101}" in err and f"--port {port}" in err


async def test_fault_reaches_the_demo_named_in_the_state_file(tmp_path: Path) -> None:
    port = free_base_port()
    async with run_sandbox(port, tmp_path / "sandbox", matters=200) as sb:
        state = _state(tmp_path, port)
        code = await asyncio.to_thread(
            main, ["sandbox", "fault", "LITIGATION", "--mode", "down", "--state-dir", str(state)])
        assert code == 0
        assert sb.controls[Centre.LITIGATION].settings.mode == "down"
        assert sb.controls[Centre.MEDIATION].settings.mode == "ok"
        # An explicit --port wins over the state file.
        code = await asyncio.to_thread(
            main, ["sandbox", "fault", "LITIGATION", "--mode", "ok", "--port", str(port),
                   "--state-dir", str(tmp_path / "nowhere")])
        assert code == 0
        assert sb.controls[Centre.LITIGATION].settings.mode == "ok"


def test_serve_workers_auto_is_every_available_core(capsys: pytest.CaptureFixture[str]) -> None:
    cores = len(os.sched_getaffinity(0))
    args = _parser().parse_args(["serve", "--config", "x.toml", "--workers", "auto"])
    assert args.workers == cores >= 1
    assert _parser().parse_args(["serve", "--config", "x.toml", "--workers", "3"]).workers == 3
    for bad in ("0", "many"):
        with pytest.raises(SystemExit):
            _parser().parse_args(["serve", "--config", "x.toml", "--workers", bad])
    assert "--workers" in capsys.readouterr().err


async def test_sandbox_registers_the_callbacks_it_is_given(tmp_path: Path) -> None:
    """`onedoor sandbox --callbacks URL` (the compose file's wiring): every served centre
    that calls back has URL/webhooks/<centre> registered from the start; one that is
    polled has none."""
    import httpx

    port = free_base_port()
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("onedoor")), "sandbox", "--port", str(port),
        "--state-dir", str(tmp_path), "--matters", "200", "--only", "MEDIATION,PETITIONS",
        "--callbacks", "http://gateway.example:8000/", stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        printed = [await asyncio.wait_for(process.stdout.readline(), 60) for _ in range(2)]
        assert all(b"http://127.0.0.1:" in line for line in printed), printed
        async with httpx.AsyncClient(timeout=10) as client:
            hooks = await client.get(f"http://127.0.0.1:{port + 101}/_sandbox/webhooks")
            polled = await client.get(f"http://127.0.0.1:{port + 103}/_sandbox/webhooks")
        assert hooks.json() == {"urls": ["http://gateway.example:8000/webhooks/mediation"]}
        assert polled.status_code == 501
    finally:
        process.terminate()
        await process.wait()

"""Signed checkpoints and the append-only witness that keeps them.

A checkpoint is one JSON line: the chain head (seq, hash), the record count,
the anchor, the database's identity nonce, the time, the public key and an
Ed25519 signature over all of it. Each line also carries its number ``n`` and
the SHA-256 of the line before (``prev``), so lines cut from the middle of the
witness show. A retention purge is a checkpoint of kind ``purge`` naming the
purged range, written *before* the records go::

    {"anchor_hash": "…", "anchor_seq": 0, "at": "2026-12-02T07:00:00.000000Z", "count": 42,
     "hash": "…", "identity": "9f…", "key": "base64 Ed25519 public key", "kind": "interval",
     "n": 7, "prev": "…", "purge": null, "seq": 42, "v": 1, "sig": "base64"}

The witness lives where the audit database's owner cannot write: by default a
file beside the state (mount it append-only, or ship it to WORM storage), or
a table in another PostgreSQL database (:mod:`.witness_postgres`);
:class:`Witness` is the contract either implements.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .chain import ChainState
from .record import GENESIS_HASH, Finding, format_time, parse_time
from .signing import public_key_from_text, public_key_text

__all__ = ["Checkpoint", "FileWitness", "PurgeNote", "Tail", "Witness", "open_witness",
           "read_checkpoints"]

_DOMAIN = b"onedoor-audit-checkpoint/v1\n"  # a checkpoint signature means nothing else


@dataclass(frozen=True, slots=True)
class PurgeNote:
    """Records ``first``..``last`` purged for retention; the last was written at ``last_at``."""

    first: int
    last: int
    last_at: str
    cutoff: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    n: int
    kind: str  # start | interval | shutdown | purge
    at: str
    identity: str
    seq: int
    hash: str
    count: int
    anchor_seq: int
    anchor_hash: str
    prev: str
    key: str
    purge: PurgeNote | None = None
    sig: str = ""
    v: int = 1

    @classmethod
    def of(cls, state: ChainState, *, kind: str, tail: Tail, key: Ed25519PrivateKey,
           now: dt.datetime, purge: PurgeNote | None = None) -> Checkpoint:
        body = cls(n=tail.next_n, kind=kind, at=format_time(now), identity=state.identity,
                   seq=state.head.seq, hash=state.head.hash, count=state.count,
                   anchor_seq=state.anchor.seq, anchor_hash=state.anchor.hash, prev=tail.prev,
                   key=public_key_text(key.public_key()), purge=purge)
        sig = key.sign(_DOMAIN + _canonical(body.signed_fields()))
        return replace(body, sig=base64.b64encode(sig).decode())

    @classmethod
    def parse(cls, line: str) -> Checkpoint:
        """``ValueError`` for anything that is not a checkpoint line."""
        try:
            data = json.loads(line)
            purge = data.pop("purge", None)
            return cls(**data, purge=PurgeNote(**purge) if purge is not None else None)
        except (TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a checkpoint ({exc})") from None

    @property
    def time(self) -> dt.datetime:
        return parse_time(self.at)

    @property
    def label(self) -> str:
        return f"checkpoint #{self.n} ({self.kind}, {self.at})"

    def signed_fields(self) -> dict[str, Any]:
        fields = asdict(self)
        del fields["sig"]
        return fields

    def line(self) -> str:
        return _canonical(asdict(self)).decode()

    def signed_by(self, key: Ed25519PublicKey) -> bool:
        try:
            key.verify(base64.b64decode(self.sig, validate=True),
                       _DOMAIN + _canonical(self.signed_fields()))
        except (InvalidSignature, ValueError):
            return False
        return True


def line_hash(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


class Witness(Protocol):
    """An append-only home for checkpoints, out of the audit database owner's reach.

        async with witness.appending() as tail:      # exclusive across processes
            await tail.append(Checkpoint.of(state, kind="interval", tail=tail, key=key, now=now))
        lines = await witness.lines()
    """

    def appending(self) -> contextlib.AbstractAsyncContextManager[Tail]: ...

    async def lines(self) -> list[str] | None:
        """Every line, or ``None`` when the witness does not exist."""
        ...

    def describe(self) -> str: ...


class FileWitness:
    """JSON lines in one file (``checkpoints.jsonl`` inside ``path`` if it is a directory),
    opened ``O_APPEND``, ``flock``-ed while appending and fsynced after each line."""

    def __init__(self, path: Path) -> None:
        self.path = path / "checkpoints.jsonl" if path.is_dir() else path

    def describe(self) -> str:
        return str(self.path)

    @contextlib.asynccontextmanager
    async def appending(self) -> AsyncIterator[Tail]:
        # The file work runs in threads a cancelled caller cannot interrupt, so it is
        # shielded: a lock taken after the caller gave up is released, never leaked (a
        # leaked flock would block every later checkpoint), and a write finishes before
        # its descriptor is closed.
        opening = asyncio.ensure_future(asyncio.to_thread(self._open_locked))
        try:
            fd, last_line = await asyncio.shield(opening)
        except asyncio.CancelledError:
            opening.add_done_callback(_release_opened)
            raise

        def write(line: str) -> None:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)

        async def write_async(line: str) -> None:
            writing = asyncio.ensure_future(asyncio.to_thread(write, line))
            try:
                await asyncio.shield(writing)
            except asyncio.CancelledError:
                await asyncio.wait([writing])
                raise

        try:
            yield Tail(last_line, write_async)
        finally:
            _release(fd)

    def _open_locked(self) -> tuple[int, str | None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return fd, _last_line(fd)
        except BaseException:
            os.close(fd)
            raise

    async def lines(self) -> list[str] | None:
        def read() -> list[str] | None:
            try:
                text = self.path.read_text()
            except FileNotFoundError:
                return None
            return [line for line in text.split("\n") if line]

        return await asyncio.to_thread(read)


class Tail:
    """The end of a witness whose last line is ``last_line``; ``write`` stores a line."""

    def __init__(self, last_line: str | None, write: Callable[[str], Awaitable[None]]) -> None:
        self._write = write
        self.last: Checkpoint | None = None
        self.next_n = 1
        self.prev = GENESIS_HASH
        if last_line is not None:
            self.prev = line_hash(last_line)
            with contextlib.suppress(ValueError):
                self.last = Checkpoint.parse(last_line)
                self.next_n = self.last.n + 1

    async def append(self, checkpoint: Checkpoint) -> None:
        line = checkpoint.line()
        await self._write(line)
        self.last, self.next_n, self.prev = checkpoint, checkpoint.n + 1, line_hash(line)


def open_witness(location: str) -> Witness:
    """A file or directory path, or ``postgresql://…[?schema=name]`` (default schema
    ``onedoor_witness``) in a database the audit database's owner cannot write."""
    if location.startswith(("postgresql://", "postgres://")):
        from .witness_postgres import PostgresWitness

        return PostgresWitness(location)
    return FileWitness(Path(location))


def _release(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def _release_opened(opening: asyncio.Future[tuple[int, str | None]]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        _release(opening.result()[0])


def _last_line(fd: int) -> str | None:
    """The file's last line, read backwards from the end (the witness grows for years)."""
    end = os.fstat(fd).st_size
    data, pos = b"", end
    while pos > 0:
        step = min(4096, pos)
        pos -= step
        data = os.pread(fd, step, pos) + data
        if data.rstrip(b"\n").count(b"\n"):
            break
    lines = data.rstrip(b"\n").split(b"\n")
    return lines[-1].decode() if lines and lines[-1] else None


def read_checkpoints(
    lines: Sequence[str], trusted: Ed25519PublicKey | None
) -> tuple[list[Checkpoint], list[Finding]]:
    """The checkpoints whose signatures hold, and what is wrong with the rest.

    Every line must be signed by ``trusted`` (or, without one, by the key the first
    line names), number one more than the line before and name its hash.
    """
    checkpoints: list[Checkpoint] = []
    findings: list[Finding] = []
    prev, n = GENESIS_HASH, 0
    key = trusted
    for number, line in enumerate(lines, 1):
        try:
            checkpoint = Checkpoint.parse(line)
            claimed = public_key_from_text(checkpoint.key)
        except ValueError as exc:
            findings.append(Finding("witness", f"witness line {number} is unreadable: {exc}"))
            prev = line_hash(line)
            continue
        key = key or claimed
        if not checkpoint.signed_by(key):
            whose = "another key" if checkpoint.signed_by(claimed) else "no valid signature"
            findings.append(Finding("witness", f"witness line {number} ({checkpoint.label}) "
                                               f"has {whose}: forged or re-signed"))
        else:
            if checkpoint.n != n + 1 or checkpoint.prev != prev:
                findings.append(Finding("witness", f"witness lines before {checkpoint.label} "
                                                   "are missing or out of order"))
            checkpoints.append(checkpoint)
            n = checkpoint.n
        prev = line_hash(line)
    return checkpoints, findings

"""The Ed25519 key that signs audit checkpoints, kept outside the audit database.

    key = load_signing_key(Path("/etc/onedoor/audit-signing.pem"))            # production
    key = load_signing_key(state_dir / "audit-signing.pem", create=True)     # demo: made once, 0600
    public = public_key_text(key.public_key())                                 # what the witness names

``onedoor audit verify`` needs only the public key: from ``--public-key``, from
the configured private key, or (trust on first use) from the witness itself.
"""

from __future__ import annotations

import base64
import logging
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["load_public_key", "load_signing_key", "public_key_from_text", "public_key_text"]

log = logging.getLogger("onedoor.audit")


def load_signing_key(path: Path, *, create: bool = False) -> Ed25519PrivateKey:
    """The private key in ``path`` (PKCS#8 PEM); with ``create``, a new one written
    there with mode 0600 when the file does not exist. ``FileNotFoundError`` /
    ``ValueError`` otherwise, so a missing or foreign key fails the start."""
    if create and not path.exists():
        _create(path)
    data = path.read_bytes()
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("audit signing key %s is readable by other users (chmod 600)", path)
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file holding either half of the pair."""
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        return load_signing_key(path).public_key()
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} does not hold an Ed25519 public key")
    return key


def public_key_text(key: Ed25519PublicKey) -> str:
    """The raw 32 bytes, base64: how a checkpoint names the key that signed it."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def public_key_from_text(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    # Written aside, then linked into place: a second worker starting at the same moment
    # either finds the whole key or loses the race and reads the winner's.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        os.link(tmp, path)
        log.info("audit signing key created at %s", path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)

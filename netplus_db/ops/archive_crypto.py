"""Encryption of backup archives at rest: AES-256-GCM in 1 MiB chunks, streamed.

The key is 32 random bytes, base64-encoded, in `NETPLUS_BACKUP_KEY` (`openssl rand -base64 32`).
Each file gets its own AES key, derived with HKDF-SHA256 from that key and a random salt in
the file's header, so a nonce never repeats across files.

Layout (the "STREAM" construction of online authenticated encryption):

    header:  b"NETPLUS-ENC\\x01" | key id (8) | salt (16) | nonce prefix (7) | chunk size (4, BE)
    chunks:  AES-256-GCM(chunk) + 16-byte tag, nonce = prefix | counter (4, BE) | last (1)

Every chunk authenticates the header too. The last chunk carries the flag 1, so a file cut
at a chunk boundary, chunks reordered or dropped, or any byte changed, fails authentication;
a different key is told apart by the key id (a one-way HKDF value, not the key). Nothing is
held in memory but one chunk.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from netplus_db.ops.archives import ArchiveError, BackupError

KEY_VARIABLE = "NETPLUS_BACKUP_KEY"
ALGORITHM = "AES-256-GCM"
MAGIC = b"NETPLUS-ENC\x01"
CHUNK_SIZE = 1 << 20
TAG = 16
_HEADER = struct.Struct(">12s8s16s7sI")
HEADER_SIZE = _HEADER.size
GENERATE_HINT = "generate one with: openssl rand -base64 32 (and keep it apart from the backups)"


class BackupKeyError(BackupError):
    """NETPLUS_BACKUP_KEY is missing or malformed (its value is never shown)."""


@dataclass(frozen=True)
class BackupKey:
    """The key backups are encrypted with, and its public id."""

    secret: bytes
    key_id: str

    def __repr__(self) -> str:
        return f"BackupKey(key_id={self.key_id!r})"


def key_from_env(env: Mapping[str, str] | None = None) -> BackupKey | None:
    """The key in NETPLUS_BACKUP_KEY, or None when it is unset; BackupKeyError when malformed."""
    value = (os.environ if env is None else env).get(KEY_VARIABLE, "").strip()
    if not value:
        return None
    try:
        secret = base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise BackupKeyError(f"{KEY_VARIABLE} is not base64; {GENERATE_HINT}") from None
    if len(secret) != 32:
        raise BackupKeyError(
            f"{KEY_VARIABLE} holds {len(secret)} bytes, not 32 (AES-256 needs 32 random "
            f"bytes); {GENERATE_HINT}"
        )
    return BackupKey(secret, _hkdf(secret, None, b"netplus-db backup key id v1", 8).hex())


def require_key(what: str, env: Mapping[str, str] | None = None) -> BackupKey:
    """The key from the environment; BackupKeyError saying `what` needs it when it is unset."""
    key = key_from_env(env)
    if key is None:
        raise BackupKeyError(
            f"{what} needs the key in {KEY_VARIABLE}, which is not set; {GENERATE_HINT}"
        )
    return key


def _hkdf(secret: bytes, salt: bytes | None, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)


def _file_cipher(key: BackupKey, salt: bytes) -> AESGCM:
    return AESGCM(_hkdf(key.secret, salt, b"netplus-db backup AES-256-GCM v1", 32))


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


def encryption_record(key: BackupKey) -> dict[str, Any]:
    """What a manifest says about an encrypted archive (never the key)."""
    return {"algorithm": ALGORITHM, "chunk_size": CHUNK_SIZE, "key_id": key.key_id}


# --- writing ----------------------------------------------------------------------------------


class EncryptingWriter:
    """Encrypts what is written to it into `sink`, chunk by chunk; `close()` writes the last
    chunk (and must be called). Counts and hashes the bytes it writes to the sink."""

    def __init__(self, sink: IO[bytes], key: BackupKey) -> None:
        self._sink = sink
        salt, prefix = os.urandom(16), os.urandom(7)
        self._header = _HEADER.pack(MAGIC, bytes.fromhex(key.key_id), salt, prefix, CHUNK_SIZE)
        self._cipher = _file_cipher(key, salt)
        self._prefix = prefix
        self._counter = 0
        self._buffer = bytearray()
        self.sha256 = hashlib.sha256()
        self.written = 0
        self._emit(self._header)

    def _emit(self, data: bytes) -> None:
        self._sink.write(data)
        self.sha256.update(data)
        self.written += len(data)

    def write(self, data: bytes) -> None:
        """Add plaintext; whole chunks are encrypted and written as they fill."""
        self._buffer += data
        while len(self._buffer) > CHUNK_SIZE:  # keep at least one byte back for the last chunk
            chunk = bytes(self._buffer[:CHUNK_SIZE])
            del self._buffer[:CHUNK_SIZE]
            self._seal(chunk, last=False)

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        if self._counter >= 2**32 - 1:
            raise BackupError("archive too large to encrypt (more than 4 PiB)")
        nonce = _nonce(self._prefix, self._counter, last)
        self._emit(self._cipher.encrypt(nonce, chunk, self._header))
        self._counter += 1

    def close(self) -> None:
        """Encrypt what is left as the last chunk (possibly empty)."""
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()


# --- reading ----------------------------------------------------------------------------------


def is_encrypted(path: Path) -> bool:
    """Whether a file starts with our encryption header."""
    try:
        with path.open("rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def header_key_id(path: Path) -> str:
    """The key id an encrypted archive was written with."""
    with path.open("rb") as f:
        head = f.read(HEADER_SIZE)
    if len(head) < HEADER_SIZE or not head.startswith(MAGIC):
        raise ArchiveError(path, "the encryption header is truncated or not ours")
    key_id: bytes = _HEADER.unpack(head)[1]
    return key_id.hex()


def decrypted_chunks(path: Path, key: BackupKey) -> Iterator[bytes]:
    """The plaintext of an encrypted archive, chunk by chunk, each authenticated before it is
    yielded; ArchiveError for a different key, a changed byte, or a cut file."""
    with path.open("rb") as f:
        header = f.read(HEADER_SIZE)
        if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
            raise ArchiveError(path, "the encryption header is truncated or not ours")
        _magic, key_id, salt, prefix, chunk_size = _HEADER.unpack(header)
        if key_id.hex() != key.key_id:
            raise ArchiveError(
                path,
                f"encrypted with a different key (key id {key_id.hex()}; {KEY_VARIABLE} has key "
                f"id {key.key_id}): set {KEY_VARIABLE} to the key it was written with",
            )
        if not 0 < chunk_size <= 64 * CHUNK_SIZE:
            raise ArchiveError(path, f"the encryption header is damaged (chunk size {chunk_size})")
        cipher = _file_cipher(key, salt)
        counter = 0
        sealed = f.read(chunk_size + TAG)
        while True:
            following = f.read(chunk_size + TAG)
            last = not following
            try:
                yield cipher.decrypt(_nonce(prefix, counter, last), sealed, header)
            except InvalidTag:
                raise ArchiveError(
                    path,
                    f"authentication failed at byte {HEADER_SIZE + counter * (chunk_size + TAG)}: "
                    "the file was changed, damaged or cut after it was written",
                ) from None
            if last:
                return
            sealed, counter = following, counter + 1


def authenticate(path: Path, key: BackupKey) -> int:
    """Decrypt the whole archive without keeping anything; returns the plaintext size."""
    return sum(len(chunk) for chunk in decrypted_chunks(path, key))

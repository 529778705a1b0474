"""One output shape for every command that takes `--json`, and where human text goes.

With `--json` a command prints exactly one JSON document on stdout, also when it fails
(unreachable server, bad migration...), and every human line goes to stderr:

    {
      "target":  {"host": ..., "port": ..., "database": ..., "user": ..., "sslmode": ...,
                  "source": ...} or null (never a password),
      "result":  "ok" | "error" | a command's own word ("pending", "missing_database"...),
      "summary": {...counts and facts of this command...},
      "items":   [...one object per migration, check, event...],
      "errors":  [{"kind": "ConnectError", "message": "..."}, ...]
    }

The exit code says the same as `result`: 0 for "ok", non-zero otherwise.

How a command adopts it (backup, restore and seed can do the same):

    @click.command()
    @json_option
    @pass_cli_context
    def cmd(env: CliContext, as_json: bool) -> None:
        doc = document()                  # the active document, or a disabled one
        doc.items.append({...})
        say("human text")                 # stderr under --json, stdout otherwise
        finish(doc, "ok")                 # prints the JSON once; exits non-zero if not ok

`main()` turns an exception raised anywhere into `{"result": "error", "errors": [...]}`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Document:
    """The JSON document of one command run."""

    enabled: bool = False
    target: dict[str, Any] | None = None
    result: str = "ok"
    summary: dict[str, Any] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    printed: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The documented shape: target, result, summary, items, errors."""
        return {
            "target": self.target,
            "result": self.result,
            "summary": self.summary,
            "items": self.items,
            "errors": self.errors,
        }

    def error(self, message: str, kind: str = "error") -> None:
        """Add an error (the message must already be free of passwords)."""
        self.errors.append({"kind": kind, "message": message})


_active = Document()


def start(enabled: bool) -> Document:
    """Begin this run's document (`--json` given or not) and return it."""
    global _active
    _active = Document(enabled=enabled)
    return _active


def document() -> Document:
    """This run's document (disabled when `--json` was not given)."""
    return _active


def json_mode() -> bool:
    """True when this run prints a JSON document."""
    return _active.enabled


def say(message: str) -> None:
    """A human line: on stderr under `--json` (stdout stays JSON), else on stdout."""
    click.echo(message, err=_active.enabled)


def emit(doc: Document) -> None:
    """Print the document on stdout, once (nothing when `--json` was not given)."""
    if doc.enabled and not doc.printed:
        doc.printed = True
        click.echo(json.dumps(doc.as_dict(), indent=2, default=str))


def finish(doc: Document, result: str, *, code: int | None = None) -> None:
    """Set the result, print the document, and exit non-zero unless the result is "ok"."""
    doc.result = result
    emit(doc)
    exit_code = code if code is not None else (0 if result == "ok" else 1)
    if exit_code:
        sys.exit(exit_code)


def fail(message: str, kind: str, code: int = 1) -> bool:
    """For `main()`: report a failure in the active JSON document; False when there is none
    (the caller then prints the human line only)."""
    doc = _active
    if not doc.enabled or doc.printed:
        return False
    doc.error(message, kind)
    doc.result = "error"
    emit(doc)
    return True


def abort(doc: Document, message: str, kind: str = "error", code: int = 1) -> NoReturn:
    """Fail the command with one error: the human line on stderr, the document on stdout."""
    click.echo(f"error: {message}", err=True)
    doc.error(message, kind)
    doc.result = "error"
    emit(doc)
    sys.exit(code)


def _json_callback(_ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    start(bool(value))
    return bool(value)


def json_option(f: F) -> F:
    """`--json`: one JSON document on stdout (the shape in this module's docstring)."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        is_eager=True,
        callback=_json_callback,
        help="Print one JSON document on stdout ({target, result, summary, items, errors}), "
        "also on failure; human text goes to stderr.",
    )(f)

"""The Python mutation harness's own helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutation import python


def test_a_failed_runs_output_is_shown_as_the_terminal_left_it() -> None:
    log = b"\xe2\xa0\xa6 1/9 killed 0\r\xe2\xa0\xa7 2/9 killed 1\r\nTraceback:\r\n  boom\n"
    assert python.as_shown(log) == "\u2827 2/9 killed 1\nTraceback:\n  boom"
    assert python.as_shown(b"".join(b"%d\n" % n for n in range(100)), lines=2) == "98\n99"


def test_keep_refuses_an_existing_copy_and_resume_needs_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = python.MODULES["session"]
    (tmp_path / "session").mkdir()
    with pytest.raises(
        SystemExit, match="already exists; remove it, name another directory or --resume"
    ):
        python.mutate("session", module, 1, {}, keep=tmp_path)
    with pytest.raises(SystemExit, match="session holds no copy made by --keep"):
        python.mutate("session", module, 1, {}, keep=tmp_path, resume=True)
    with pytest.raises(SystemExit) as usage:
        python.main(["--resume"])
    assert usage.value.code == 2
    assert "--resume goes on with the copies in --keep DIR: name it" in capsys.readouterr().err

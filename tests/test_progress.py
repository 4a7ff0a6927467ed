"""Build progress: a live line on a terminal, plain lines otherwise, nothing extra with -q."""

from __future__ import annotations

import io
from types import SimpleNamespace

from gitax.cli.cmd_build import PLAIN_EVERY, LineReporter, LiveOut


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def finished(reporter: LineReporter) -> None:
    reporter.job_finished(SimpleNamespace(id="train-abc"), True, 1.5)  # type: ignore[arg-type]


def test_terminal_gets_a_live_line_that_job_output_and_results_clear() -> None:
    out = Terminal()
    reporter = LineReporter(out, quiet=False)
    reporter.job_started("train-abc", ["new method"])
    reporter.job_running("train-abc", 3.2)
    assert out.getvalue().endswith("\r\033[Krunning  train-abc  3 s")
    raw = io.BytesIO()
    LiveOut(raw, reporter).write(b"job says hi\n")
    assert out.getvalue().endswith("\r\033[K") and raw.getvalue() == b"job says hi\n"
    reporter.job_running("train-abc", 4.0)
    finished(reporter)
    assert out.getvalue().endswith("\r\033[Kbuilt    train-abc  1.50 s\n")


def test_not_a_terminal_gets_plain_lines_only() -> None:
    out = io.StringIO()
    reporter = LineReporter(out, quiet=False)
    reporter.job_started("train-abc", ["option lr: 0.1 -> 0.2"])
    reporter.job_running("train-abc", 1.0)
    reporter.job_running("train-abc", PLAIN_EVERY + 0.5)
    reporter.job_running("train-abc", PLAIN_EVERY + 1.5)
    finished(reporter)
    assert out.getvalue() == (
        "building train-abc  (option lr: 0.1 -> 0.2)\n"
        f"running  train-abc  {PLAIN_EVERY + 0.5:.0f} s\n"
        "built    train-abc  1.50 s\n"
    )
    assert "\r" not in out.getvalue()


def test_quiet_shows_only_results() -> None:
    out = Terminal()
    reporter = LineReporter(out, quiet=True)
    reporter.job_started("train-abc", ["new method"])
    reporter.job_running("train-abc", PLAIN_EVERY * 2)
    finished(reporter)
    assert out.getvalue() == "built    train-abc  1.50 s\n"


def test_transfer_progress_line_on_a_terminal_only(monkeypatch) -> None:
    import sys

    from gitax.cli.cmd_remote import ProgressLine

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    bar = ProgressLine("pushing")
    bar("objects", 3, 10, 5 * 2**20)
    assert term.getvalue() == "\r\033[Kpushing 3/10 objects, 5.0 MiB"
    bar.end()
    assert term.getvalue().endswith("\r\033[K")
    plain = io.StringIO()
    monkeypatch.setattr(sys, "stderr", plain)
    quiet = ProgressLine("pulling")
    quiet("objects", 1, 2, 10)
    quiet.end()
    assert plain.getvalue() == ""

"""ConsoleCapture: the terminal side must be byte-identical, the captured side whole collapsed lines."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests._env import child_env
from wakelog.monitor.console import ConsoleCapture, LineAssembler

Lines = list[tuple[str, str]]


def _collector() -> tuple[Lines, Any]:
    got: Lines = []

    def emit(stream: str, line: str, ts: float) -> None:
        assert isinstance(ts, float) and ts > 1e9
        got.append((stream, line))

    return got, emit


def fake_console(monkeypatch: pytest.MonkeyPatch) -> tuple[io.StringIO, io.StringIO]:
    """Point sys.stdout/stderr at StringIOs (inside the test body: pytest re-installs its own capture
    streams between fixture setup and the call)."""
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    return out, err


# ------------------------------------------------------------------------------------------ line assembly


def test_line_assembler_basics() -> None:
    a = LineAssembler()
    assert a.feed("hel") == []
    assert a.feed("lo\nwor") == ["hello"]
    assert a.feed("ld\n\n") == ["world", ""]
    assert a.feed("a\r\nb\r") == ["a"]
    assert a.feed("\n") == ["b"]  # "\r\n" split across two writes is still one newline
    assert a.feed("10%\r20%\r30%") == []
    assert a.feed("\n") == ["30%"]
    assert a.feed("done\r") == []
    assert a.flush() == "done"
    assert a.flush() is None


def test_progress_bar_without_newline_keeps_memory_bounded() -> None:
    a = LineAssembler()
    for i in range(100_000):
        assert a.feed(f"\rstep {i:6d} [{'#' * (i % 50):<50}]") == []
    assert a._size < 200
    assert a.feed("\n") == [f"step  99999 [{'#' * (99_999 % 50):<50}]"]


def test_long_lines_are_split() -> None:
    a = LineAssembler(max_line=100)
    out = a.feed("x" * 250)
    assert out == ["x" * 100, "x" * 100]
    assert a.feed("\n") == ["x" * 50]


def _reference_lines(text: str) -> list[str]:
    """What a complete text should produce: split on \\n, then keep what follows the last \\r."""
    parts = text.split("\n")
    lines = []
    for p in parts[:-1]:
        body = p.rstrip("\r")
        lines.append(body[body.rfind("\r") + 1 :])
    return lines


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(
        st.text(alphabet=st.sampled_from(["a", "b", "é", "\r", "\n", " "]), max_size=12), max_size=30
    )
)
def test_chunking_never_changes_the_lines(pieces: list[str]) -> None:
    text = "".join(pieces)
    a = LineAssembler()
    lines: list[str] = []
    for p in pieces:
        lines.extend(a.feed(p))
    assert lines == _reference_lines(text)
    whole = LineAssembler()
    assert whole.feed(text) == lines


# ------------------------------------------------------------------------------------------ in-process


def test_tee_bytes_unchanged_and_lines_collapsed(monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = fake_console(monkeypatch)
    got, emit = _collector()
    cap = ConsoleCapture(emit)
    cap.start()
    assert sys.stdout is not out
    print("epoch 1")
    for pct in (0, 50, 100):
        print(f"\r[{'=' * (pct // 10):<10}] {pct}%", end="")
    print()
    print("err!", file=sys.stderr)
    sys.stdout.writelines(["a", "b\n"])
    print("unfinished", end="")
    cap.stop()
    assert sys.stdout is out and sys.stderr is err
    assert out.getvalue() == (
        "epoch 1\n\r[          ] 0%\r[=====     ] 50%\r[==========] 100%\nab\nunfinished"
    )
    assert err.getvalue() == "err!\n"
    assert got == [
        ("stdout", "epoch 1"),
        ("stdout", "[==========] 100%"),
        ("stderr", "err!"),
        ("stdout", "ab"),
        ("stdout", "unfinished"),
    ]


def test_stop_leaves_a_user_replaced_stdout_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    out, _ = fake_console(monkeypatch)
    got, emit = _collector()
    cap = ConsoleCapture(emit)
    cap.start()
    proxy = sys.stdout
    mine = io.StringIO()
    sys.stdout = mine
    cap.stop()
    assert sys.stdout is mine
    # A handler that grabbed the proxy during the run keeps working: it passes through, uncaptured.
    proxy.write("late\n")
    assert out.getvalue() == "late\n"
    assert got == []
    sys.stdout = out


def test_emit_that_raises_does_not_break_print(monkeypatch: pytest.MonkeyPatch) -> None:
    out, _ = fake_console(monkeypatch)

    def emit(stream: str, line: str, ts: float) -> None:
        raise RuntimeError("sink broke")

    cap = ConsoleCapture(emit)
    cap.start()
    for i in range(3):
        print("still", i)
    cap.stop()
    assert out.getvalue() == "still 0\nstill 1\nstill 2\n"


def test_emit_that_prints_is_not_captured_again(monkeypatch: pytest.MonkeyPatch) -> None:
    out, _ = fake_console(monkeypatch)
    got: Lines = []

    def emit(stream: str, line: str, ts: float) -> None:
        got.append((stream, line))
        print(f"[echo] {line}")  # would loop forever if it were captured

    cap = ConsoleCapture(emit)
    cap.start()
    print("one")
    print("two")
    cap.stop()
    assert got == [("stdout", "one"), ("stdout", "two")]
    assert out.getvalue() == "one\n[echo] one\ntwo\n[echo] two\n"


def test_threads_produce_whole_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_console(monkeypatch)
    got, emit = _collector()
    cap = ConsoleCapture(emit)
    cap.start()
    n_threads, n_lines = 8, 400

    def worker(t: int) -> None:
        for j in range(n_lines):
            sys.stdout.write(f"thread {t} line {j} " + "x" * (j % 37) + "\n")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cap.stop()
    assert len(got) == n_threads * n_lines
    pattern = re.compile(r"thread (\d) line (\d+) (x*)")
    seen = set()
    for stream, line in got:
        m = pattern.fullmatch(line)
        assert stream == "stdout" and m, line
        assert len(m.group(3)) == int(m.group(2)) % 37
        seen.add((int(m.group(1)), int(m.group(2))))
    assert len(seen) == n_threads * n_lines
    # Per thread, lines arrive in the order they were written.
    for t in range(n_threads):
        js = [int(pattern.fullmatch(line).group(2)) for _, line in got if line.startswith(f"thread {t} ")]  # type: ignore[union-attr]
        assert js == sorted(js)


def test_attributes_are_delegated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = open(tmp_path / "out.txt", "w", encoding="utf-8")  # noqa: SIM115
    monkeypatch.setattr(sys, "stdout", real)
    got, emit = _collector()
    cap = ConsoleCapture(emit)
    cap.start()
    try:
        proxy = sys.stdout
        assert proxy is not real
        assert proxy.fileno() == real.fileno()
        assert proxy.isatty() is False
        assert proxy.encoding == real.encoding
        assert proxy.buffer is real.buffer
        assert proxy.errors == real.errors
        assert proxy.closed is False
        assert isinstance(proxy, io.TextIOBase)
        assert proxy.write("abc\n") == 4
        proxy.flush()
    finally:
        cap.stop()
    real.close()
    assert (tmp_path / "out.txt").read_text() == "abc\n"
    assert got == [("stdout", "abc")]


def test_start_and_stop_are_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    out, _ = fake_console(monkeypatch)
    got, emit = _collector()
    cap = ConsoleCapture(emit)
    cap.start()
    proxy = sys.stdout
    cap.start()
    assert sys.stdout is proxy
    print("x")
    cap.stop()
    cap.stop()
    assert sys.stdout is out
    assert got == [("stdout", "x")]


def test_unknown_mode_falls_back_to_wrap() -> None:
    cap = ConsoleCapture(lambda *a: None, mode="bogus")
    assert cap.mode == "wrap"


# ------------------------------------------------------------------------------------------ subprocess

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    mode, out = sys.argv[1], sys.argv[2]
    lines = []
    info = {}
    if mode != "none":
        from wakelog.monitor.console import ConsoleCapture
        cap = ConsoleCapture(lambda s, l, t: lines.append([s, l]), mode=mode)
        ino = os.fstat(1).st_ino
        cap.start()
    info["isatty"] = sys.stdout.isatty()
    print("plain line")
    print("unicode: 你好 ✓")
    for i in range(5):
        print(f"\\rprogress {i * 25}%", end="", flush=True)
    print()
    sys.stdout.write("a\\r\\nb\\r\\n")
    sys.stderr.write("warn: something\\n")
    sys.stdout.write("bar 1\\rbar 2\\r")
    sys.stdout.write("\\n")
    sys.stdout.flush()
    os.write(1, b"fd-level line\\n")
    os.system("echo from child; echo child err >&2")
    sys.stdout.write("tail without newline")
    sys.stdout.flush()
    if mode != "none":
        cap.stop()
        info["fd_restored"] = os.fstat(1).st_ino == ino
        info["restored"] = sys.stdout is sys.__stdout__
    json.dump({"lines": lines, "info": info}, open(out, "w"))
    """
)


def _run_script(
    tmp_path: Path, mode: str, **kw: Any
) -> tuple[subprocess.CompletedProcess[bytes], dict[str, Any]]:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    result_file = tmp_path / f"result-{mode}.json"
    env = child_env(PYTHONIOENCODING="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), mode, str(result_file)],
        capture_output=True,
        timeout=60,
        env=env,
        check=False,
        **kw,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc, json.loads(result_file.read_text(encoding="utf-8"))


EXPECTED_PY_STDOUT = [
    "plain line",
    "unicode: 你好 ✓",
    "progress 100%",
    "a",
    "b",
    "bar 2",
]


@pytest.mark.parametrize("mode", ["wrap", "redirect"])
def test_terminal_bytes_identical_through_a_pipe(tmp_path: Path, mode: str) -> None:
    plain, _ = _run_script(tmp_path, "none")
    captured, result = _run_script(tmp_path, mode)
    assert captured.stdout == plain.stdout
    assert captured.stderr == plain.stderr
    assert b"\rprogress 25%" in captured.stdout  # the raw bar reached the terminal untouched
    lines = [tuple(x) for x in result["lines"]]
    stdout = [line for s, line in lines if s == "stdout"]
    stderr = [line for s, line in lines if s == "stderr"]
    if mode == "wrap":
        assert stdout == [*EXPECTED_PY_STDOUT, "tail without newline"]
        assert stderr == ["warn: something"]
    else:  # redirect also sees fd-level writes and child processes
        assert stdout == [*EXPECTED_PY_STDOUT, "fd-level line", "from child", "tail without newline"]
        assert stderr == ["warn: something", "child err"]
    assert result["info"]["isatty"] is False
    assert result["info"]["fd_restored"] is True
    assert result["info"]["restored"] is True


@pytest.mark.parametrize("mode", ["wrap", "redirect"])
def test_isatty_preserved_on_a_terminal(tmp_path: Path, mode: str) -> None:
    master, slave = pty.openpty()
    try:
        script = tmp_path / "script.py"
        script.write_text(SCRIPT, encoding="utf-8")
        result_file = tmp_path / "result.json"
        proc = subprocess.Popen(
            [sys.executable, str(script), mode, str(result_file)],
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=subprocess.PIPE,
            env=child_env(PYTHONIOENCODING="utf-8"),
        )
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO once every writer has closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.communicate(timeout=30)
        assert proc.returncode == 0
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    result = json.loads(result_file.read_text(encoding="utf-8"))
    assert result["info"]["isatty"] is True
    assert b"plain line" in b"".join(chunks)


REDIRECT_STRESS = textwrap.dedent(
    """
    import ctypes, json, os, sys
    from wakelog.monitor.console import ConsoleCapture
    lines = []
    cap = ConsoleCapture(lambda s, l, t: lines.append(l), mode="redirect")
    cap.start()
    # 4 MiB written by C code that keeps holding the GIL: with a reader *thread* this would deadlock
    # once the pipe filled up.
    row = b"y" * 1023 + b"\\n"
    buf = row * 4096
    libc = ctypes.PyDLL(None)
    written = 0
    while written < len(buf):
        n = libc.write(1, ctypes.c_char_p(buf[written:]), len(buf) - written)
        assert n > 0
        written += n
    cap.stop()
    os.write(1, b"after stop\\n")
    json.dump({"n": len(lines), "ok": all(l == "y" * 1023 for l in lines)}, open(sys.argv[1], "w"))
    """
)


def test_redirect_survives_a_full_pipe_while_the_gil_is_held(tmp_path: Path) -> None:
    script = tmp_path / "stress.py"
    script.write_text(REDIRECT_STRESS, encoding="utf-8")
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, str(script), str(out)], capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == (b"y" * 1023 + b"\n") * 4096 + b"after stop\n"
    result = json.loads(out.read_text())
    assert result == {"n": 4096, "ok": True}


CRASH = textwrap.dedent(
    """
    import os, signal, sys
    from wakelog.monitor.console import ConsoleCapture
    cap = ConsoleCapture(lambda s, l, t: None, mode="redirect")
    cap.start()
    os.write(2, b"F0000 fatal: last words before the crash\\n")
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_redirect_keeps_last_words_of_a_killed_process(tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text(CRASH, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=30, check=False)
    assert proc.returncode == -9
    assert b"last words before the crash" in proc.stderr


FORK = textwrap.dedent(
    """
    import os, sys, threading, time
    from wakelog.monitor.console import ConsoleCapture
    cap = ConsoleCapture(lambda s, l, t: None)
    cap.start()
    held, release = threading.Event(), threading.Event()
    def hold():
        with cap._lock:
            held.set()
            release.wait()
    t = threading.Thread(target=hold)
    t.start()
    held.wait()
    pid = os.fork()
    if pid == 0:
        print("child prints fine", flush=True)
        os._exit(0)
    deadline = time.time() + 10
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        os.kill(pid, 9)
        release.set()
        sys.exit("child hung on the capture lock")
    release.set()
    t.join()
    cap.stop()
    """
)


def test_forked_child_does_not_inherit_a_held_lock(tmp_path: Path) -> None:
    script = tmp_path / "fork.py"
    script.write_text(FORK, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", str(script)], capture_output=True, timeout=30, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"child prints fine" in proc.stdout


def test_stop_after_redirect_is_prompt(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import os, time, subprocess, sys
        from wakelog.monitor.console import ConsoleCapture
        cap = ConsoleCapture(lambda s, l, t: None, mode="redirect")
        cap.start()
        # an exec'd child and a forked child (like a DataLoader worker) outlive the capture and keep the
        # pipes (and, for the fork, every descriptor the parent had) open
        child = subprocess.Popen(["sleep", "3"])
        pid = os.fork()
        if pid == 0:
            time.sleep(3)
            os._exit(0)
        print("x", flush=True)
        t = time.perf_counter()
        cap.stop()
        print(f"stop took {time.perf_counter() - t:.3f}", file=sys.stderr)
        child.kill(); child.wait()
        os.kill(pid, 9); os.waitpid(pid, 0)
        """
    )
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    took = float(re.search(rb"stop took ([\d.]+)", proc.stderr).group(1))  # type: ignore[union-attr]
    assert took < 1.0
    assert time.perf_counter() - t0 < 10


HELPER_KILLED = textwrap.dedent(
    """
    import os, signal, sys, time
    from wakelog.monitor.console import ConsoleCapture
    got = []
    cap = ConsoleCapture(lambda s, l, t: got.append(l), mode="redirect")
    cap.start()
    print("before", flush=True)
    os.kill(cap._fd._proc.pid, signal.SIGKILL)
    deadline = time.time() + 5
    while cap._redirected and time.time() < deadline:
        time.sleep(0.01)
    print("after", flush=True)
    os.write(1, b"fd after\\n")
    cap.stop()
    print(got, file=sys.stderr)
    """
)


def test_redirect_restores_fds_when_the_helper_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(HELPER_KILLED, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b"before\nafter\nfd after\n"
    assert b"helper exited" in proc.stderr

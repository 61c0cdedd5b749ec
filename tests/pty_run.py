#!/usr/bin/env python3
"""Run a command on a fresh pseudo-terminal (its stdin, stdout, stderr and
controlling terminal, so /dev/tty is it) and type at it like a person.

usage: pty_run.py --out FILE [STEP...] -- COMMAND [ARG...]

Steps, in order:
  --expect TEXT   wait (bounded) until TEXT appears in what the terminal
                  shows after the previous --expect's match
  --send TEXT     type TEXT and Enter
  --ctrl-c        type the interrupt character (^C)
  --run SHELLCMD  run SHELLCMD with $PID set to the command's pid (while it
                  waits) and what the terminal showed so far in FILE; a
                  failure stops the run with status 99
Everything the terminal showed is written to FILE; after the command ends,
"echo: on" or "echo: off" (the terminal's ECHO flag then) is appended to
FILE + ".echo".  The exit status is the command's (128 + N for signal N),
or 98 if an --expect timed out.  Standard library only.
"""
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time

TIMEOUT = float(os.environ.get("PTY_TIMEOUT", "120"))


def main(argv):
    steps = []
    out = None
    i = 0
    while i < len(argv) and argv[i] != "--":
        a = argv[i]
        if a == "--out":
            out = argv[i + 1]
            i += 2
        elif a in ("--expect", "--send", "--run"):
            steps.append((a, argv[i + 1]))
            i += 2
        elif a == "--ctrl-c":
            steps.append((a, None))
            i += 1
        else:
            sys.exit("pty_run.py: unknown argument " + a)
    cmd = argv[i + 1:]
    if out is None or not cmd:
        sys.exit(__doc__)

    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)

    shown = bytearray()
    mark = 0
    status = None

    def pump(wait):
        """Read what is there (waiting up to ${wait} s); False at EOF."""
        r, _, _ = select.select([fd], [], [], wait)
        if not r:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        shown.extend(data)
        return True

    rc = None
    for kind, arg in steps:
        if kind == "--expect":
            want = arg.encode()
            deadline = time.monotonic() + TIMEOUT
            while shown.find(want, mark) < 0:
                if time.monotonic() > deadline or not pump(0.5):
                    if shown.find(want, mark) >= 0:
                        break
                    sys.stderr.write("pty_run.py: %r never appeared\n" % arg)
                    rc = 98
                    break
            if rc is not None:
                break
            mark = shown.find(want, mark) + len(want)
        elif kind == "--send":
            os.write(fd, arg.encode() + b"\r")
        elif kind == "--ctrl-c":
            os.write(fd, termios.tcgetattr(fd)[6][termios.VINTR])
        elif kind == "--run":
            with open(out, "wb") as f:
                f.write(bytes(shown))
            if subprocess.call(["sh", "-c", arg],
                               env=dict(os.environ, PID=str(pid))) != 0:
                sys.stderr.write("pty_run.py: failed: %s\n" % arg)
                rc = 99
                break

    if rc is not None:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + TIMEOUT
    while status is None:
        alive = pump(0.2)
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            while pump(0.1):
                if not select.select([fd], [], [], 0)[0]:
                    break
        elif not alive or time.monotonic() > deadline:
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
    try:
        echo = termios.tcgetattr(fd)[3] & termios.ECHO
        with open(out + ".echo", "w") as f:
            f.write("echo: %s\n" % ("on" if echo else "off"))
    except termios.error:
        pass
    with open(out, "wb") as f:
        f.write(bytes(shown))
    if rc is not None:
        return rc
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

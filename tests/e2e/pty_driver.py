"""A small expect-style driver for `beatbook` on a pseudo-terminal.

pexpect is not installed, so this is pty.fork + select: the child runs the
real binary with the pty's slave as stdin/stdout/stderr (so the program sees
a terminal and walks its form), the parent reads the master side and waits
for a regular expression to appear before it answers, with a deadline
(never fixed sleeps), so it stays reliable on a loaded machine.

Echo is switched off on the terminal before the program starts: what we read
is only what the program wrote, so a pattern can never match our own typing.
The line discipline stays canonical, so Ctrl-D (VEOF) at the start of a line
is end of input for the program, as for an officer at a keyboard.

    t = Pty(["beatbook", "add", "complaint"], env=...)
    t.expect(r"\\[1/\\d+\\] ")
    t.answer("1")                 # writes "1\\n"
    ...
    t.expect(r"儲存？\\[Y/n/修改欄位號碼\\] ")
    t.answer("")
    rc = t.wait()
    t.transcript                  # everything the program printed
"""
import codecs
import os
import pty
import re
import select
import signal
import termios
import time

DEFAULT_TIMEOUT = float(os.environ.get("BEATBOOK_PTY_TIMEOUT", "20"))


class PtyTimeout(AssertionError):
    pass


class PtyEOF(AssertionError):
    pass


class Pty:
    def __init__(self, argv, env, cols=160, rows=50):
        self.argv = [str(a) for a in argv]
        pid, fd = pty.fork()
        if pid == 0:   # the child: the pty's slave is our stdin/stdout/stderr
            try:
                attrs = termios.tcgetattr(0)
                attrs[3] &= ~(termios.ECHO | termios.ECHONL)
                termios.tcsetattr(0, termios.TCSANOW, attrs)
                os.execve(self.argv[0], self.argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self._dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.transcript = ""      # all output so far (\r\n turned into \n)
        self.pos = 0              # where the next expect starts looking
        self.eof = False
        self.rc = None
        self.sent = []            # what we typed, for failure messages

    # -- reading
    def _read_some(self, deadline):
        """Read what is available (waiting until deadline); False at EOF or timeout."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.fd], [], [], left)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:       # EIO: the child closed its side (exited)
            data = b""
        if not data:
            self.eof = True
            self.transcript += self._dec.decode(b"", final=True)
            return False
        self.transcript += self._dec.decode(data).replace("\r\n", "\n")
        return True

    def _context(self):
        tail = self.transcript[max(0, self.pos - 600):]
        return (f"\n--- command: {' '.join(self.argv[1:])}\n--- typed so far: {self.sent!r}"
                f"\n--- output around the read position:\n{tail}\n---")

    def expect(self, pattern, timeout=None):
        """Wait until pattern (a regex, str or compiled) appears after the read
        position; move past it and return the match."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + (DEFAULT_TIMEOUT if timeout is None else timeout)
        while True:
            m = rx.search(self.transcript, self.pos)
            if m:
                self.pos = m.end()
                return m
            if self.eof:
                raise PtyEOF(f"program ended before {rx.pattern!r} appeared{self._context()}")
            if not self._read_some(deadline) and not self.eof:
                if time.monotonic() >= deadline:
                    raise PtyTimeout(f"timed out waiting for {rx.pattern!r}{self._context()}")

    def expect_exact(self, text, timeout=None):
        return self.expect(re.escape(text), timeout)

    def since(self, mark):
        """Output from transcript index mark to the read position."""
        return self.transcript[mark:self.pos]

    # -- writing
    def send(self, text):
        self.sent.append(text)
        os.write(self.fd, text.encode("utf-8"))

    def answer(self, text=""):
        """Type a line and press Enter."""
        self.send(text + "\n")

    def send_eof(self):
        """Ctrl-D at the start of a line: end of input."""
        self.sent.append("^D")
        os.write(self.fd, termios.tcgetattr(self.fd)[6][termios.VEOF])

    # -- ending
    def wait(self, timeout=None):
        """Read to the end of output and return the exit code."""
        deadline = time.monotonic() + (DEFAULT_TIMEOUT if timeout is None else timeout)
        while not self.eof:
            if not self._read_some(deadline) and not self.eof and time.monotonic() >= deadline:
                self.kill()
                raise PtyTimeout(f"program did not end{self._context()}")
        self.pos = len(self.transcript)
        _, status = os.waitpid(self.pid, 0)
        self.rc = os.waitstatus_to_exitcode(status)
        os.close(self.fd)
        return self.rc

    def kill(self):
        if self.rc is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.rc = -9
            try:
                os.close(self.fd)
            except OSError:
                pass

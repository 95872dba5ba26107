"""Shared fixtures for the end-to-end tests: a real feedbackd on 127.0.0.1.

Environment:
  FEEDBACKD      the server binary (default build/feedbackd)
  FB_DESC        descriptor set for fbclient (default build/feedback.desc)
  FB_E2E_ASAN=1  the binary is the ASan+UBSan build: every server's stderr is
                 checked for sanitizer reports when it stops (leaks included)

Fixtures:
  server          a started server with a fresh data dir; stopped at teardown
                  with SIGTERM, asserting exit status 0 within 5 s
  server_factory  make more servers: server_factory(data_dir=None, args=[])

A Server has .addr, .port, .data_dir, .keys ({'admin': ..., 'submit': ...}),
.client(role='admin' | key=...), .start(), .stop(), .kill9(), .restart(),
.log() (its stderr so far), .wait_log(pattern) and .proc.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fbclient  # noqa: E402

REPO = fbclient.REPO
FEEDBACKD = os.environ.get("FEEDBACKD", os.path.join(REPO, "build", "feedbackd"))
ASAN = os.environ.get("FB_E2E_ASAN") == "1"
START_TIMEOUT = 60 if ASAN else 15
STOP_TIMEOUT = 5.0
SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                      "SUMMARY: UndefinedBehaviorSanitizer", "WARNING: ThreadSanitizer")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long tests (skipped in the ASan e2e run)")


def server_env():
    env = dict(os.environ)
    env.setdefault("FB_LEXICON_DIR", os.path.join(REPO, "lexicons"))
    if ASAN:
        supp = os.path.join(REPO, "tests", "e2e", "lsan.supp")
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        if os.path.exists(supp):
            env.setdefault("LSAN_OPTIONS", "suppressions=%s:print_suppressions=0" % supp)
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    return env


def read_keys(path):
    keys = {}
    with open(path) as f:
        for line in f:
            role, _, key = line.rstrip("\n").partition("\t")
            if role:
                keys[role] = key
    return keys


class Server:
    def __init__(self, data_dir, args=(), tmp=None):
        self.data_dir = data_dir
        self.args = list(args)
        self.tmp = tmp or os.path.dirname(data_dir)
        self.port = 0
        self.proc = None
        self.keys = {}
        self.logs = []       # one stderr file per start
        self.clients = []

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    # ---- life ----
    def start(self, wait=True):
        assert self.proc is None, "already running"
        logpath = os.path.join(self.tmp, "feedbackd-%d.log" % len(self.logs))
        self.logs.append(logpath)
        logf = open(logpath, "wb")
        cmd = [FEEDBACKD, "--listen", "127.0.0.1:%d" % self.port, "--data-dir", self.data_dir] + self.args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=logf, env=server_env())
        logf.close()
        if wait:
            try:
                self._wait_ready()
            except AssertionError:
                if self.proc.poll() is None:
                    self.proc.kill()
                self.proc.wait()
                self.proc = None
                raise
        return self

    def _wait_ready(self):
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("feedbackd exited with %s during start:\n%s"
                                     % (self.proc.returncode, self.log()))
            m = re.search(r"listening on [^\s:]+:(\d+)", self.log())
            if m:
                self.port = int(m.group(1))
                break
            time.sleep(0.02)
        else:
            raise AssertionError("feedbackd did not start:\n" + self.log())
        c = fbclient.Client(self.addr)
        try:
            while time.time() < deadline:
                try:
                    if c.health(timeout=2) == "SERVING":
                        break
                except Exception:
                    time.sleep(0.05)
            else:
                raise AssertionError("feedbackd never reported SERVING:\n" + self.log())
        finally:
            c.close()
        keyfile = os.path.join(self.data_dir, "default-keys")
        if os.path.exists(keyfile):
            self.keys = read_keys(keyfile)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM; asserts exit status 0 within timeout; checks sanitizers."""
        if self.proc is None:
            return
        self._close_clients()
        t0 = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout + (20 if ASAN else 0))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            raise AssertionError("feedbackd did not exit within %.1fs of SIGTERM:\n%s"
                                 % (timeout, self.log()[-4000:]))
        elapsed = time.time() - t0
        self.proc = None
        self.check_sanitizers()
        assert rc == 0, "feedbackd exited with %s after SIGTERM:\n%s" % (rc, self.log()[-4000:])
        if not ASAN:
            assert elapsed < timeout, "stop took %.2fs" % elapsed
        return elapsed

    def kill9(self):
        """SIGKILL, as a crash: no shutdown code runs."""
        if self.proc is None:
            return
        self._close_clients()
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def restart(self, kill=False):
        """Stops (SIGTERM, or SIGKILL with kill=True) and starts again on the
        same data dir and port."""
        if kill:
            self.kill9()
        else:
            self.stop()
        return self.start()

    # ---- clients and logs ----
    def client(self, role="admin", key=None):
        c = fbclient.Client(self.addr, key=key if key is not None else self.keys.get(role))
        self.clients.append(c)
        return c

    def _close_clients(self):
        for c in self.clients:
            c.close()
        self.clients = []

    def log(self, all_starts=False):
        paths = self.logs if all_starts else self.logs[-1:]
        out = []
        for p in paths:
            with open(p, "rb") as f:
                out.append(f.read().decode("utf-8", "replace"))
        return "".join(out)

    def wait_log(self, pattern, timeout=10, count=1):
        """Waits until the current log matches pattern (regex) count times;
        returns the matches."""
        deadline = time.time() + timeout
        while True:
            found = re.findall(pattern, self.log())
            if len(found) >= count:
                return found
            if time.time() > deadline:
                raise AssertionError("log never matched %r %d times (got %d):\n%s"
                                     % (pattern, count, len(found), self.log()[-3000:]))
            time.sleep(0.05)

    def check_sanitizers(self):
        if not ASAN:
            return
        text = self.log()
        for pat in SANITIZER_PATTERNS:
            assert pat not in text, "sanitizer report in feedbackd's stderr:\n" + text[-8000:]


@pytest.fixture
def tmpdir_fb():
    d = tempfile.mkdtemp(prefix="fb-e2e-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def server_factory(tmpdir_fb):
    made = []

    def make(data_dir=None, args=(), start=True):
        n = len(made)
        root = os.path.join(tmpdir_fb, "srv%d" % n)
        os.makedirs(root, exist_ok=True)
        s = Server(data_dir or os.path.join(root, "data"), args=args, tmp=root)
        made.append(s)
        if start:
            s.start()
        return s

    yield make
    errors = []
    for s in made:
        try:
            s.stop()
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        raise AssertionError("\n".join(errors))


@pytest.fixture
def server(server_factory):
    return server_factory()

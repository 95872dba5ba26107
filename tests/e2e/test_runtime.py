"""The gRPC runtime end to end: health, unknown methods, authentication and
roles, message size, cancellation and deadlines, shutdown, the command line
and first start. Driven with Debian's python3-grpcio against a real
feedbackd on 127.0.0.1 (fixtures in conftest.py)."""
import os
import signal
import stat
import subprocess
import threading
import time

import grpc
import pytest

import fbclient
from conftest import ASAN, FEEDBACKD, Server, read_keys, server_env

STOP_LIMIT = 15 if ASAN else 5  # seconds; the contract's 5 s, looser for the sanitizer build

ROLES = ("admin", "submit", "read", "alerts")

# Methods with a role check, and a role each of them refuses.
ROLE_PROBES = [
    ("feedback.v1.Insights/GetNps", "submit", "read or admin"),
    ("feedback.v1.Insights/ListFeedback", "submit", "read or admin"),
    ("feedback.v1.Ingest/SubmitResponse", "read", "submit or admin"),
    ("feedback.v1.Admin/ListKeys", "submit", "admin"),
    ("feedback.v1.Alerts/ListAlerts", "submit", "alerts or admin"),
]


def registered_probe(srv):
    """The first ROLE_PROBES method the server implements (the runtime
    answers UNIMPLEMENTED before any auth for methods no table has)."""
    c = srv.client(key="")
    for method, refused, needs in ROLE_PROBES:
        try:
            c.call(method, timeout=5)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNIMPLEMENTED:
                return method, refused, needs
    pytest.skip("no method with a role check is registered yet (feature modules not merged)")


def health_status_name(n):
    return fbclient.message_class("grpc.health.v1.HealthCheckResponse").DESCRIPTOR \
        .fields_by_name["status"].enum_type.values_by_number[n].name


# ---- health ---------------------------------------------------------------

def test_health_serving_for_server_and_services(server):
    c = server.client()
    assert c.health() == "SERVING"
    for svc in ("feedback.v1.Ingest", "feedback.v1.Insights", "feedback.v1.Alerts",
                "feedback.v1.Admin", "grpc.health.v1.Health"):
        assert c.health(svc) == "SERVING", svc


def test_health_unknown_service_not_found(server):
    e = fbclient.expect_error(server.client().health, "no.such.Service")
    assert e.code() == grpc.StatusCode.NOT_FOUND
    assert "no.such.Service" in e.details()


def test_health_needs_no_key(server):
    assert server.client(key="").health() == "SERVING"


# ---- unknown and unimplemented methods -----------------------------------

def test_unknown_method_unimplemented(server):
    e = fbclient.expect_error(server.client().raw, "/no.such.Service/Method", b"")
    assert e.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "/no.such.Service/Method" in e.details()
    server.wait_log(r"rpc no\.such\.Service/Method tenant=- status=UNIMPLEMENTED")


def test_every_contract_rpc_answers_with_a_status(server):
    """Each unary RPC of the contract answers promptly with a meaningful
    status (UNIMPLEMENTED until its module lands) and the server keeps
    serving; none hangs or fails with UNKNOWN/INTERNAL on an empty request."""
    c = server.client("admin")
    pool = fbclient.pool()
    seen = 0
    for svc in ("feedback.v1.Ingest", "feedback.v1.Insights", "feedback.v1.Alerts", "feedback.v1.Admin"):
        sd = pool.FindServiceByName(svc)
        for md in sd.methods:
            if md.client_streaming or md.server_streaming:
                continue
            seen += 1
            try:
                c.call("%s/%s" % (svc, md.name), timeout=10)
            except grpc.RpcError as e:
                assert e.code() not in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL,
                                        grpc.StatusCode.DEADLINE_EXCEEDED), (md.name, e)
                if e.code() == grpc.StatusCode.UNIMPLEMENTED:
                    assert md.name in e.details()
    assert seen >= 15
    assert c.health() == "SERVING"


def test_undecodable_request_invalid_argument(server):
    e = fbclient.expect_error(server.client().raw, "/grpc.health.v1.Health/Check", b"\xff\xff\xff\xff")
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "grpc.health.v1.HealthCheckRequest" in e.details()


# ---- authentication and roles --------------------------------------------

def test_missing_key_unauthenticated(server):
    method, _, _ = registered_probe(server)
    e = fbclient.expect_error(server.client(key="").call, method)
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "authorization: Bearer" in e.details()


def test_malformed_authorization_unauthenticated(server):
    method, _, _ = registered_probe(server)
    c = server.client(key="")
    e = fbclient.expect_error(c.call, method, metadata=[("authorization", "Basic abc")])
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED


def test_unknown_key_unauthenticated(server):
    method, _, _ = registered_probe(server)
    e = fbclient.expect_error(server.client(key="fbk_" + "A" * 52).call, method)
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "A" * 20 not in e.details()  # the secret is not echoed


def test_wrong_role_permission_denied(server):
    method, refused, needs = registered_probe(server)
    e = fbclient.expect_error(server.client(refused).call, method)
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    assert e.details() == "role '%s' may not call %s; needs %s" % (refused, method, needs)
    server.wait_log(r"tenant=default status=PERMISSION_DENIED")


# ---- message size --------------------------------------------------------

def test_oversize_message_resource_exhausted_and_still_serving(server):
    c = server.client()
    e = fbclient.expect_error(c.call, "grpc.health.v1.Health/Check", service="x" * ((1 << 20) + 100))
    assert e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert c.health() == "SERVING"


def test_max_message_bytes_flag(server_factory):
    srv = server_factory(args=["--max-message-bytes", "4096"])
    c = srv.client()
    assert c.health() == "SERVING"
    e = fbclient.expect_error(c.call, "grpc.health.v1.Health/Check", service="x" * 5000)
    assert e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    e = fbclient.expect_error(c.call, "grpc.health.v1.Health/Check", service="x" * 3000)
    assert e.code() == grpc.StatusCode.NOT_FOUND  # within the limit: an ordinary answer


# ---- cancellation and deadlines ------------------------------------------

def test_client_cancel_is_cleaned_up(server):
    c = server.client()
    streams = []
    for _ in range(50):
        s = c.stream("grpc.health.v1.Health/Watch", service="")
        assert health_status_name(next(s).status) == "SERVING"
        streams.append(s)
    for s in streams:
        s.cancel()
    # every stream's context is freed (its log line is written at free)
    server.wait_log(r"rpc grpc\.health\.v1\.Health/Watch tenant=- status=CANCELLED", count=50)
    assert c.health() == "SERVING"


def test_deadline_is_honoured_and_cleaned_up(server):
    c = server.client()
    s = c.stream("grpc.health.v1.Health/Watch", service="", timeout=0.5)
    t0 = time.time()
    e = fbclient.expect_error(list, s)
    assert e.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.time() - t0 < 5
    # The client's own timer may cancel the stream a moment before the
    # server's fires: either way the call is cleaned up and logged.
    server.wait_log(r"rpc grpc\.health\.v1\.Health/Watch tenant=- status=(?:DEADLINE_EXCEEDED|CANCELLED)",
                    timeout=30)
    assert c.health() == "SERVING"


def test_many_concurrent_calls(server):
    errors = []

    def worker():
        c = fbclient.Client(server.addr)
        try:
            for _ in range(25):
                if c.health() != "SERVING":
                    errors.append("not serving")
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    server.wait_log(r"rpc grpc\.health\.v1\.Health/Check tenant=- status=OK", count=1000)


# ---- shutdown ------------------------------------------------------------

def test_sigterm_ends_streams_unavailable_and_exits_zero(server_factory):
    srv = server_factory()
    c = fbclient.Client(srv.addr)
    streams = [c.stream("grpc.health.v1.Health/Watch", service="") for _ in range(20)]
    for s in streams:
        assert health_status_name(next(s).status) == "SERVING"
    elapsed = srv.stop()
    for s in streams:
        rest = []
        with pytest.raises(grpc.RpcError) as ei:
            for m in s:
                rest.append(health_status_name(m.status))
        assert ei.value.code() == grpc.StatusCode.UNAVAILABLE, ei.value
        assert rest == ["NOT_SERVING"]
    c.close()
    assert elapsed < STOP_LIMIT


WATCH_CLIENT = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
import fbclient
c = fbclient.Client(sys.argv[1])
s = c.stream("grpc.health.v1.Health/Watch", service="")
next(s)
print("ready", flush=True)
time.sleep(120)
"""


@pytest.mark.slow
def test_keepalive_drops_a_dead_peer(server_factory):
    """A client that stops answering HTTP/2 pings (SIGSTOP) is found dead by
    the server's keepalive and its stream is cleaned up."""
    srv = server_factory(args=["--keepalive-ms", "500"])
    client = subprocess.Popen(["/usr/bin/python3", "-c", WATCH_CLIENT, srv.addr, os.path.dirname(__file__)],
                              stdout=subprocess.PIPE, text=True, env=server_env())
    try:
        assert client.stdout.readline().strip() == "ready"
        client.send_signal(signal.SIGSTOP)
        srv.wait_log(r"rpc grpc\.health\.v1\.Health/Watch tenant=- status=CANCELLED", timeout=20)
    finally:
        client.kill()
        client.wait()
    assert srv.client().health() == "SERVING"


def test_sigint_exits_zero(server_factory):
    srv = server_factory()
    srv.proc.send_signal(signal.SIGINT)
    assert srv.proc.wait(timeout=30) == 0
    srv.proc = None
    srv.check_sanitizers()
    assert "SIGINT: shutting down" in srv.log()


def test_restart_same_dir_keeps_keys(server):
    keys = dict(server.keys)
    port = server.port
    server.restart()
    assert server.port == port
    assert server.keys == keys
    assert "first start" not in server.log()
    server.restart(kill=True)
    assert server.client().health() == "SERVING"


# ---- command line, config, first start -----------------------------------

def test_help():
    r = subprocess.run([FEEDBACKD, "--help"], capture_output=True, text=True, timeout=10, env=server_env())
    assert r.returncode == 0
    for flag in ("--listen", "--data-dir", "--threads", "--config", "--log-level", "tenant create"):
        assert flag in r.stdout
    assert "127.0.0.1:50051" in r.stdout


def test_bad_flag_exits_2():
    r = subprocess.run([FEEDBACKD, "--no-such-flag"], capture_output=True, text=True, timeout=10,
                       env=server_env())
    assert r.returncode == 2
    assert "--no-such-flag" in r.stderr


def test_bad_config_names_file_and_line(tmpdir_fb):
    cfg = os.path.join(tmpdir_fb, "bad.conf")
    with open(cfg, "w") as f:
        f.write("# comment\nlisten = 127.0.0.1:0\nthreads = many\n")
    r = subprocess.run([FEEDBACKD, "--config", cfg], capture_output=True, text=True, timeout=10,
                       env=server_env())
    assert r.returncode == 2
    assert "%s:3: threads" % cfg in r.stderr


def test_first_start_writes_default_keys_0600(server):
    path = os.path.join(server.data_dir, "default-keys")
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600
    with open(path) as f:
        lines = f.read().splitlines()
    assert [ln.split("\t")[0] for ln in lines] == list(ROLES)
    secrets = [ln.split("\t")[1] for ln in lines]
    assert all(len(s) >= 16 for s in secrets) and len(set(secrets)) == 4
    assert "default-keys" in server.log() and "first start" in server.log()


def test_config_file_with_flags_overriding(server_factory, tmpdir_fb):
    data = os.path.join(tmpdir_fb, "from-config")
    cfg = os.path.join(tmpdir_fb, "feedbackd.conf")
    with open(cfg, "w") as f:
        f.write('data_dir = "%s"\nlisten = 127.0.0.1:1\nthreads = 3\nlog_level = warn\n' % data)
    # --listen (given by the fixture) overrides the config's listen
    srv = server_factory(data_dir=data, args=["--config", cfg, "--log-level", "info"])
    assert os.path.exists(os.path.join(data, "default-keys"))
    assert srv.client().health() == "SERVING"
    assert "listening on" in srv.log()  # info level from the flag


def test_port_taken_is_an_error(server):
    r = subprocess.run([FEEDBACKD, "--listen", server.addr, "--data-dir",
                        os.path.join(os.path.dirname(server.data_dir), "other")],
                       capture_output=True, text=True, timeout=30, env=server_env())
    assert r.returncode != 0
    assert server.addr in r.stderr


def test_tenant_create_while_running(server):
    r = subprocess.run([FEEDBACKD, "tenant", "create", "acme", "--data-dir", server.data_dir],
                       capture_output=True, text=True, timeout=30, env=server_env())
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [ln.split("\t")[0] for ln in lines] == list(ROLES)
    keys = dict(ln.split("\t") for ln in lines)
    assert not set(keys.values()) & set(server.keys.values())
    again = subprocess.run([FEEDBACKD, "tenant", "create", "acme", "--data-dir", server.data_dir],
                           capture_output=True, text=True, timeout=30, env=server_env())
    assert again.returncode != 0 and "acme" in again.stderr
    assert server.client().health() == "SERVING"
    # the running server accepts the new tenant's key at once
    method, refused, _ = registered_probe(server)
    e = fbclient.expect_error(server.client(key=keys[refused]).call, method)
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    server.wait_log(r"tenant=acme status=PERMISSION_DENIED")


def test_tenant_create_usage_errors(tmpdir_fb):
    r = subprocess.run([FEEDBACKD, "tenant", "create"], capture_output=True, text=True, timeout=10,
                       env=server_env())
    assert r.returncode == 2 and "usage" in r.stderr


def test_threads_flag(server_factory):
    srv = server_factory(args=["--threads", "1"])
    assert srv.client().health() == "SERVING"


@pytest.mark.slow
def test_thousand_idle_streams_cost_no_thread(server):
    c = fbclient.Client(server.addr)
    streams = [c.stream("grpc.health.v1.Health/Watch", service="") for _ in range(1000)]
    for s in streams:
        next(s)
    threads = len(os.listdir("/proc/%d/task" % server.proc.pid))
    assert threads < 64, threads
    assert c.health() == "SERVING"
    for s in streams:
        s.cancel()
    server.wait_log(r"Health/Watch tenant=- status=CANCELLED", count=1000, timeout=30)
    c.close()


def test_default_keys_never_overwritten(tmpdir_fb):
    """A leftover default-keys file in an empty data dir: the server refuses
    to start rather than overwrite it."""
    data = os.path.join(tmpdir_fb, "data")
    os.makedirs(data)
    with open(os.path.join(data, "default-keys"), "w") as f:
        f.write("admin\told\n")
    s = Server(data, tmp=tmpdir_fb)
    with pytest.raises(AssertionError, match="exited"):
        s.start()
    s.proc = None
    assert read_keys(os.path.join(data, "default-keys")) == {"admin": "old"}


# ---- streams, through the echo server's test methods ----------------------
# tools/bench/echo_server --test-methods serves our runtime with test
# handlers for a client stream, a server stream and a unary call answered
# from another thread (see its header comment).

ECHO_SERVER = os.environ.get("ECHO_SERVER", os.path.join(os.path.dirname(FEEDBACKD), "echo_server"))


class Echo:
    def __init__(self, args=()):
        self.proc = subprocess.Popen([ECHO_SERVER, "--listen", "127.0.0.1:0", "--test-methods"] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=server_env(),
                                     text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("listening on "), line + self.proc.stderr.read()
        self.addr = line.split()[-1]
        self.client = fbclient.Client(self.addr)

    def stop(self):
        self.client.close()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        err = self.proc.stderr.read()
        for pat in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert pat not in err, err
        assert rc == 0, err
        return rc


@pytest.fixture
def echo():
    if not os.path.exists(ECHO_SERVER):
        pytest.skip("echo_server not built")
    e = Echo()
    yield e
    if e.proc.poll() is None:
        e.stop()


def test_client_stream_counts_items(echo):
    items = [{"response": {"survey_id": "s", "score": i % 11}} for i in range(500)]
    r = echo.client.client_stream("feedback.v1.Ingest/Import", items)
    assert r.accepted == 500
    r = echo.client.client_stream("feedback.v1.Ingest/Import", [])
    assert r.accepted == 0


def test_client_stream_handler_error_stops_reading(echo):
    items = [{"response": {"survey_id": "s", "score": 1}}] * 5 + [{"response": {"survey_id": "s", "score": 99}}] \
        + [{"response": {"survey_id": "s", "score": 1}}] * 100
    e = fbclient.expect_error(echo.client.client_stream, "feedback.v1.Ingest/Import", items)
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.details() == "item 5: score: 99 is refused here"


def test_client_stream_undecodable_item_invalid_argument(echo):
    fn = echo.client.channel.stream_unary("/feedback.v1.Ingest/Import", request_serializer=lambda x: x,
                                          response_deserializer=lambda x: x)
    with pytest.raises(grpc.RpcError) as ei:
        fn(iter([b"\x0a\x02\x0a\x00", b"\xff\xff\xff"]), timeout=10)
    assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "feedback.v1.ImportItem" in ei.value.details()


def test_client_stream_cancelled_midway(echo):
    stop = threading.Event()

    def items():
        yield fbclient.make("feedback.v1.ImportItem", response={"survey_id": "s", "score": 1})
        stop.wait(5)

    fut = echo.client.channel.stream_unary(
        "/feedback.v1.Ingest/Import", request_serializer=lambda x: x.SerializeToString(),
        response_deserializer=lambda x: x).future(items(), timeout=10)
    time.sleep(0.2)
    fut.cancel()
    stop.set()
    assert fut.cancelled()
    assert echo.client.health() == "SERVING"


def test_server_stream_in_order_then_ok(echo):
    msgs = list(echo.client.stream("feedback.v1.Alerts/Subscribe", after_seq=1000, survey_ids=["10", "finish"],
                                   timeout=30))
    assert [m.seq for m in msgs] == list(range(1, 1001))  # within the default bound (1024)


def test_server_stream_bounded_queue():
    """A client that does not read: the handler's queue fills (bounded) and
    the stream ends RESOURCE_EXHAUSTED after what was queued."""
    e = Echo(["--stream-queue", "64"])
    try:
        s = e.client.stream("feedback.v1.Alerts/Subscribe", after_seq=5000, survey_ids=["16384"], timeout=30)
        time.sleep(0.5)  # let the server hit the bound before reading
        seqs = []
        with pytest.raises(grpc.RpcError) as ei:
            for m in s:
                seqs.append(m.seq)
        assert ei.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert seqs == list(range(1, len(seqs) + 1))
        assert 64 <= len(seqs) < 5000
    finally:
        e.stop()


def test_server_stream_cancel_and_deadline(echo):
    s = echo.client.stream("feedback.v1.Alerts/Subscribe", after_seq=3)
    assert [next(s).seq for _ in range(3)] == [1, 2, 3]
    s.cancel()
    s2 = echo.client.stream("feedback.v1.Alerts/Subscribe", after_seq=1, timeout=0.3)
    with pytest.raises(grpc.RpcError) as ei:
        list(s2)
    assert ei.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert echo.client.health() == "SERVING"


def test_reply_from_another_thread(echo):
    r = echo.client.call("feedback.v1.Alerts/Ack", note="20")
    assert r.id == "acked"


def test_replies_from_many_threads_and_to_dead_calls(echo):
    """Unary replies ended off the workers go through the runtime's handoff
    (each ending thread sends one waiting reply, a worker the rest): many
    threads replying at once all get through, and a reply to a call whose
    deadline passed while its handler held it goes nowhere; those calls are
    still freed (the asan build's leak check at stop) and the server goes on."""
    c = echo.client
    dead = [c.future("feedback.v1.Alerts/Ack", note="400", timeout=0.15) for _ in range(30)]
    live = [c.future("feedback.v1.Alerts/Ack", note=str(20 + i % 7), timeout=10) for i in range(60)]
    assert all(f.result().id == "acked" for f in live)
    for f in dead:
        with pytest.raises(grpc.RpcError) as ei:
            f.result()
        assert ei.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    time.sleep(0.5)  # the late replies have been handed to their dead calls
    assert c.call("feedback.v1.Alerts/Ack", note="1").id == "acked"
    echo.stop()


def test_shutdown_finishes_in_flight_unary_and_ends_streams(echo):
    c = echo.client
    streams = [c.stream("feedback.v1.Alerts/Subscribe", after_seq=1) for _ in range(10)]
    for s in streams:
        assert next(s).seq == 1
    slow = c.future("feedback.v1.Alerts/Ack", note="800", timeout=10)
    time.sleep(0.2)  # the call is in the handler's hands
    t0 = time.time()
    echo.proc.send_signal(signal.SIGTERM)
    assert slow.result().id == "acked"  # in-flight unary call finished
    for s in streams:
        with pytest.raises(grpc.RpcError) as ei:
            list(s)
        assert ei.value.code() == grpc.StatusCode.UNAVAILABLE
        assert ei.value.details() == "server shutting down"
    assert echo.proc.wait(timeout=30) == 0
    assert time.time() - t0 < STOP_LIMIT


def test_shutdown_with_a_stuck_stream_within_5s():
    """A stream whose client does not read cannot flush; the grace period
    ends it and the server still exits 0 in time."""
    e = Echo(["--stream-queue", "100000"])
    s = e.client.stream("feedback.v1.Alerts/Subscribe", after_seq=2000, survey_ids=["65536"], timeout=60)
    time.sleep(0.5)
    t0 = time.time()
    e.stop()
    assert time.time() - t0 < STOP_LIMIT
    del s


# ---- authentication with real keys, through the echo server ---------------
# echo_server --data-dir opens the same LMDB environment as the running
# feedbackd (several processes may) and serves Alerts/ListAlerts with roles
# alerts|admin, so the runtime's key and role checks run against real keys.

@pytest.fixture
def auth_echo(server):
    if not os.path.exists(ECHO_SERVER):
        pytest.skip("echo_server not built")
    e = Echo(["--data-dir", server.data_dir])
    e.server = server
    yield e
    if e.proc.poll() is None:
        e.stop()


LIST_ALERTS = "feedback.v1.Alerts/ListAlerts"


def test_auth_missing_key(auth_echo):
    e = fbclient.expect_error(auth_echo.client.call, LIST_ALERTS)
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED
    assert e.details() == "missing authorization metadata: send 'authorization: Bearer <api-key>'"


def test_auth_not_bearer(auth_echo):
    key = auth_echo.server.keys["admin"]
    e = fbclient.expect_error(auth_echo.client.call, LIST_ALERTS, metadata=[("authorization", key)])
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED


def test_auth_unknown_key(auth_echo):
    secret = "fbk_" + "a" * 52
    e = fbclient.expect_error(auth_echo.client.call, LIST_ALERTS, key=secret)
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED
    assert secret not in e.details()


@pytest.mark.parametrize("role", ["submit", "read"])
def test_auth_wrong_role(auth_echo, role):
    e = fbclient.expect_error(auth_echo.client.call, LIST_ALERTS, key=auth_echo.server.keys[role])
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    assert e.details() == "role '%s' may not call %s; needs alerts or admin" % (role, LIST_ALERTS)


@pytest.mark.parametrize("role", ["alerts", "admin"])
def test_auth_allowed_roles_see_their_tenant(auth_echo, role):
    r = auth_echo.client.call(LIST_ALERTS, key=auth_echo.server.keys[role])
    assert r.next_page_token == "default"


def test_auth_bearer_is_case_insensitive(auth_echo):
    key = auth_echo.server.keys["admin"]
    r = auth_echo.client.call(LIST_ALERTS, metadata=[("authorization", "bearer " + key)])
    assert r.next_page_token == "default"


def test_tenant_created_while_running_authenticates_at_once(auth_echo):
    r = subprocess.run([FEEDBACKD, "tenant", "create", "acme", "--data-dir", auth_echo.server.data_dir],
                       capture_output=True, text=True, timeout=30, env=server_env())
    assert r.returncode == 0, r.stderr
    keys = dict(ln.split("\t") for ln in r.stdout.splitlines())
    assert auth_echo.client.call(LIST_ALERTS, key=keys["alerts"]).next_page_token == "acme"
    e = fbclient.expect_error(auth_echo.client.call, LIST_ALERTS, key=keys["submit"])
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.slow
def test_cancel_storm_then_shutdown(echo):
    """Many streams of every kind cancelled at random moments, from several
    threads, then SIGTERM with some still open: no crash, no leak (ASan), a
    clean exit, and the server answers throughout."""
    import random
    rnd = random.Random(7)
    errors = []

    def importer(seed):
        r = random.Random(seed)
        ch = fbclient.Client(echo.addr)
        try:
            for _ in range(20):
                n = r.randrange(1, 50)
                items = (fbclient.make("feedback.v1.ImportItem", response={"survey_id": "s", "score": 1})
                         for _ in range(n))
                fut = ch.channel.stream_unary("/feedback.v1.Ingest/Import",
                                              request_serializer=lambda x: x.SerializeToString(),
                                              response_deserializer=lambda x: x).future(items, timeout=10)
                time.sleep(r.random() * 0.005)
                fut.cancel()
                s = ch.stream("feedback.v1.Alerts/Subscribe", after_seq=r.randrange(0, 200), timeout=10)
                time.sleep(r.random() * 0.005)
                s.cancel()
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        finally:
            ch.close()

    threads = [threading.Thread(target=importer, args=(rnd.random(),)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert echo.client.health() == "SERVING"
    still_open = [echo.client.stream("feedback.v1.Alerts/Subscribe", after_seq=5) for _ in range(20)]
    for s in still_open:
        next(s)
    echo.stop()

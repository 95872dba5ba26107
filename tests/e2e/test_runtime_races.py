"""End-to-end: the runtime's shared sends and its cancel/end races.

- An alert fanned out to many subscribers is packed once and its bytes
  shared by every stream: each subscriber receives byte-identical messages,
  and they decode to the alert a replaying subscriber gets from the log.
- Import streams cancelled at about the moment the server ends them (the
  client's cancel racing with the last batch's callback), and a server
  stopped while Imports end: bounded loops; with the ASan build
  (FB_E2E_ASAN=1) the server's stderr is checked for use-after-free and
  leaks when it stops.
"""
import random
import threading
import time

import grpc

import fbclient

SUBSCRIBE = "feedback.v1.Alerts/Subscribe"
SUBMIT = "feedback.v1.Ingest/SubmitResponse"
IMPORT = "feedback.v1.Ingest/Import"


class RawSub:
    """A subscriber that keeps each message's bytes as received."""

    def __init__(self, client, after_seq=0):
        m = client.method(SUBSCRIBE)
        fn = client.channel.unary_stream(m.path, request_serializer=lambda x: x.SerializeToString(),
                                         response_deserializer=lambda b: b)
        req = fbclient.make("feedback.v1.SubscribeRequest", {"after_seq": after_seq})
        self.call = fn(req, metadata=[("authorization", "Bearer " + client.key)], timeout=60)
        self.got = []
        self.cv = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for b in self.call:
                with self.cv:
                    self.got.append(b)
                    self.cv.notify_all()
        except grpc.RpcError:
            pass

    def wait(self, n, timeout=20):
        deadline = time.time() + timeout
        with self.cv:
            while len(self.got) < n and time.time() < deadline:
                self.cv.wait(deadline - time.time())
            return list(self.got)

    def cancel(self):
        self.call.cancel()
        self.thread.join(5)


def test_fanout_sends_identical_bytes_to_every_subscriber(server):
    alerts = server.client("alerts")
    subs = [RawSub(alerts) for _ in range(40)]
    time.sleep(1.0)  # let their (empty) replays finish: the alerts then go out live
    sc = server.client("submit")
    n = 6
    for i in range(n):
        sc.call(SUBMIT, survey_id="fan", score=i % 3, comment="refund now, attempt %d" % i)
    results = [s.wait(n) for s in subs]
    late = RawSub(alerts)  # replays the same alerts from the log
    replayed = late.wait(n)
    for s in subs + [late]:
        s.cancel()
    assert all(len(r) == n for r in results), [len(r) for r in results]
    first = results[0]
    for i, r in enumerate(results):
        assert r == first, "subscriber %d received different bytes" % i
    cls = fbclient.message_class("feedback.v1.Alert")
    live = [cls.FromString(b) for b in first]
    assert [a.seq for a in live] == list(range(1, n + 1))
    assert all(a.survey_id == "fan" for a in live)
    assert [cls.FromString(b) for b in replayed] == live


def _import_future(c, n_items, tag, timeout=30):
    m = c.method(IMPORT)
    fn = c.channel.stream_unary(m.path, request_serializer=lambda x: x.SerializeToString(),
                                response_deserializer=m.response.FromString)
    msgs = (c.msg("feedback.v1.ImportItem", {"response": {
        "survey_id": "race", "score": i % 11, "idempotency_key": "%s-%d" % (tag, i)}})
        for i in range(n_items))
    return fn.future(msgs, metadata=[("authorization", "Bearer " + c.key)], timeout=timeout)


def _settle(fut):
    """The summary, or None if the cancel won; any other error fails."""
    try:
        return fut.result(timeout=30)
    except grpc.FutureCancelledError:
        return None
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.CANCELLED, e
        return None


def test_import_cancel_racing_with_its_end(server):
    c = server.client("submit")
    rnd = random.Random(5)
    ended = cancelled = 0
    for k in range(120):  # bounded: 120 short streams
        # 0..300 items: none, a part batch, or a full batch (256) and a part
        n = rnd.choice((0, 1, 40, 255, 256, 257, 300))
        fut = _import_future(c, n, "r%d" % k)
        time.sleep(rnd.random() * 0.004)  # about when the server answers
        fut.cancel()
        if _settle(fut) is None:
            cancelled += 1
        else:
            ended += 1
    assert ended + cancelled == 120
    assert c.health() == "SERVING"
    s = c.client_stream(IMPORT, [{"response": {"survey_id": "race", "score": 1,
                                               "idempotency_key": "after"}}])
    assert s.accepted == 1


def test_stop_while_imports_end(server_factory):
    srv = server_factory()
    for rnd_stop in range(3):  # bounded: three stops with Imports in every state
        # a client of our own: srv.stop() closes the clients it made first,
        # which would cancel the Imports before the stop could race them
        c = fbclient.Client(srv.addr, key=srv.keys["submit"])
        futs = [_import_future(c, n, "s%d-%d" % (rnd_stop, i))
                for i, n in enumerate((0, 1, 255, 256, 300, 600))]
        time.sleep(0.01 * rnd_stop)
        srv.stop()  # asserts exit status 0 (and, under ASan, a clean stderr)
        for f in futs:
            try:
                f.result(timeout=10)
            except (grpc.RpcError, grpc.FutureCancelledError):
                pass  # UNAVAILABLE, CANCELLED: whatever the stop left it
        c.close()
        srv.start()
    assert srv.client("submit").health() == "SERVING"

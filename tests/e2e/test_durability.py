"""Durability: under concurrent load, kill -9 the server at several moments,
restart it on the same directory each time, and check that every submission
that got an OK reply is stored exactly once, and nothing twice.

Each of 16 writer threads submits a sequence of responses, each with its own
idempotency key. A call that fails (the server died under it) is retried
with the same key until it gets an answer, as a real client would; so a
submission committed just before a kill but never acknowledged is answered
on the retry with duplicate=true and the id of the first commit. At the end:
- every OK'd key is listed exactly once, with the id its OK carried;
- no key is listed twice and no id twice;
- an idempotent retry of every OK'd key returns duplicate=true, same id.
"""
import random
import threading
import time

import grpc
import pytest

import fbclient

SUBMIT = "feedback.v1.Ingest/SubmitResponse"
LIST = "feedback.v1.Insights/ListFeedback"
THREADS = 16
KILLS = 5


def list_all(c):
    items, token = [], ""
    for _ in range(10000):
        page = c.call(LIST, page_size=500, page_token=token, timeout=30)
        items.extend(page.items)
        token = page.next_page_token
        if not token:
            return items
    raise AssertionError("ListFeedback never ended")


def request(tid, i):
    return dict(survey_id="dur", score=(tid + i) % 11, comment="thread %d item %d" % (tid, i),
                idempotency_key="t%d-%d" % (tid, i), tags={"thread": str(tid)},
                submitted_at_ms=1_700_000_000_000 + tid * 100_000 + i)


class Writer(threading.Thread):
    def __init__(self, tid, addr_fn, key, stop):
        super().__init__(daemon=True)
        self.tid, self.addr_fn, self.key, self.stop = tid, addr_fn, key, stop
        self.oks = {}          # idempotency key -> id from the OK reply
        self.dups = 0
        self.errors = []       # unexpected statuses

    def run(self):
        client = fbclient.Client(self.addr_fn(), key=self.key)
        i = 0
        try:
            while not self.stop.is_set() and i < 100_000:
                req = request(self.tid, i)
                for _ in range(2000):          # bounded retries of one submission
                    try:
                        r = client.call(SUBMIT, timeout=5, **req)
                        self.oks[req["idempotency_key"]] = r.id
                        self.dups += r.duplicate
                        break
                    except grpc.RpcError as e:
                        if e.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                                            grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN,
                                            grpc.StatusCode.INTERNAL):
                            self.errors.append((req["idempotency_key"], e.code(), e.details()))
                            break
                        if self.stop.is_set():
                            return
                        time.sleep(0.02)
                        client.close()         # a fresh channel: no reconnect backoff
                        client = fbclient.Client(self.addr_fn(), key=self.key)
                i += 1
        finally:
            client.close()


@pytest.mark.slow
def test_kill9_under_load_loses_and_duplicates_nothing(server):
    key = server.keys["submit"]
    stop = threading.Event()
    writers = [Writer(t, lambda: server.addr, key, stop) for t in range(THREADS)]
    for w in writers:
        w.start()
    rnd = random.Random(20261122)
    t0 = time.time()
    kills = 0
    try:
        for k in range(KILLS):
            time.sleep(rnd.uniform(0.3, 1.2))    # a different moment each time
            before = sum(len(w.oks) for w in writers)
            server.kill9()
            kills += 1
            time.sleep(rnd.uniform(0.0, 0.3))
            server.start()
            assert sum(len(w.oks) for w in writers) >= before
        time.sleep(0.5)
    finally:
        stop.set()
        for w in writers:
            w.join(timeout=30)
    assert kills == KILLS
    assert time.time() - t0 < 100
    for w in writers:
        assert not w.is_alive()
        assert not w.errors, w.errors[:5]
    oks = {}
    for w in writers:
        oks.update(w.oks)
    assert len(oks) > 200, "too little load to mean anything: %d" % len(oks)
    print("durability: %d OK'd submissions, %d answered as duplicates after a kill, %d kills"
          % (len(oks), sum(w.dups for w in writers), kills))

    # one more crash with nothing in flight, then check what is stored
    server.kill9()
    server.start()
    items = list_all(server.client("read"))
    by_key = {}
    for it in items:
        by_key.setdefault(it.idempotency_key, []).append(it.id)
    twice = {k: v for k, v in by_key.items() if len(v) > 1}
    assert not twice, "stored twice: %r" % list(twice.items())[:5]
    assert len({it.id for it in items}) == len(items)
    missing = [k for k in oks if k not in by_key]
    assert not missing, "OK'd but lost: %r" % missing[:10]
    wrong = [k for k, i in oks.items() if by_key[k][0] != i]
    assert not wrong, "id changed: %r" % wrong[:5]
    # nothing stored that no thread sent
    assert set(by_key) <= {"t%d-%d" % (w.tid, i) for w in writers for i in range(len(w.oks) + 2)}

    # and an idempotent retry of a sample answers duplicate with the same id
    c = server.client("submit")
    for k in random.Random(1).sample(sorted(oks), 50):
        tid, i = (int(x) for x in k[1:].split("-"))
        r = c.call(SUBMIT, **request(tid, i))
        assert r.duplicate and r.id == oks[k], k

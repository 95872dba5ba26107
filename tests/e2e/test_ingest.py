"""End-to-end: Ingest (SubmitResponse, SubmitReview, Import) and
Insights.ListFeedback / Analyze against a real feedbackd, with Debian's
python3-grpcio as the client."""
import concurrent.futures
import time

import grpc
import pytest

import fbclient
from fbclient import expect_error, to_dict

SUBMIT = "feedback.v1.Ingest/SubmitResponse"
REVIEW = "feedback.v1.Ingest/SubmitReview"
IMPORT = "feedback.v1.Ingest/Import"
LIST = "feedback.v1.Insights/ListFeedback"
ANALYZE = "feedback.v1.Insights/Analyze"


def list_all(c, **query):
    """Every item ListFeedback returns for a query, following page tokens."""
    items, token = [], ""
    for _ in range(1000):
        page = c.call(LIST, page_size=500, page_token=token, **query)
        items.extend(page.items)
        token = page.next_page_token
        if not token:
            return items
    raise AssertionError("ListFeedback never ended")


# ---- hand-built protobuf, for bytes python's protobuf refuses to send ----

def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field_bytes(num, data):
    return _varint(num << 3 | 2) + _varint(len(data)) + data


def _field_varint(num, v):
    return _varint(num << 3) + _varint(v)


def test_submit_then_list(server):
    sub, read = server.client("submit"), server.client("read")
    r1 = sub.call(SUBMIT, survey_id="s1", score=10, comment="Friendly staff, loved it!",
                  channel="web", tags={"location": "paris"}, respondent_id="cust-1")
    assert len(r1.id) == 26 and not r1.duplicate
    d1 = to_dict(r1)
    assert d1["category"] == "PROMOTER"
    assert d1["sentiment"]["language"] == "en"
    assert r1.sentiment.compound > 0.05
    r2 = sub.call(SUBMIT, survey_id="s1", score=3, comment="Rude staff and a long wait.")
    assert to_dict(r2)["category"] == "DETRACTOR"
    assert r2.sentiment.compound < -0.05
    r3 = sub.call(SUBMIT, survey_id="s2", score=8)
    assert to_dict(r3)["category"] == "PASSIVE"

    items = list_all(read)
    ids = [i.id for i in items]
    assert ids == [r3.id, r2.id, r1.id]          # newest first
    first = [i for i in items if i.id == r1.id][0]
    assert first.comment == "Friendly staff, loved it!"
    assert first.tags["location"] == "paris"
    assert first.respondent_id == "cust-1"
    assert first.sentiment.compound == r1.sentiment.compound
    assert first.received_ms > 0 and first.submitted_at_ms > 0
    assert [i.id for i in list_all(read, survey_id="s1")] == [r2.id, r1.id]
    assert [i.id for i in list_all(read, category="DETRACTOR")] == [r2.id]
    assert [i.id for i in list_all(read, channel="web")] == [r1.id]
    assert [i.id for i in list_all(read, tags={"location": "paris"})] == [r1.id]
    assert [i.id for i in list_all(read, respondent_id="cust-1")] == [r1.id]


def test_list_paging_and_range(server):
    sub, read = server.client("submit"), server.client("read")
    base = int(time.time() * 1000) - 3_600_000
    ids = {}
    for i in range(120):
        ids[base + i * 1000] = sub.call(SUBMIT, survey_id="p", score=i % 11,
                                        submitted_at_ms=base + i * 1000).id
    seen, token, pages = [], "", 0
    while True:
        page = read.call(LIST, page_size=50, page_token=token)
        pages += 1
        assert len(page.items) <= 50
        seen.extend(i.submitted_at_ms for i in page.items)
        token = page.next_page_token
        if not token:
            break
    assert pages == 3
    assert seen == sorted(ids, reverse=True)
    got = list_all(read, from_ms=base + 10_000, to_ms=base + 20_000)
    assert [i.submitted_at_ms for i in got] == [base + k * 1000 for k in range(19, 9, -1)]
    e = expect_error(read.call, LIST, page_token="not-a-token")
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.details().startswith("page_token:")


BAD_RESPONSES = [
    ({"survey_id": "s", "score": 11}, "score: must be 0..10, got 11"),
    ({"survey_id": "s", "score": -1}, "score: must be 0..10, got -1"),
    ({"survey_id": "s"}, "score: required"),
    ({"score": 5}, "survey_id: required"),
    ({"survey_id": "bad id", "score": 5}, "survey_id: must match [A-Za-z0-9._-]{1,64}"),
    ({"survey_id": "s" * 65, "score": 5}, "survey_id: must match"),
    ({"survey_id": "s", "score": 5, "comment": "x" * 9000}, "comment: at most 8192 bytes, got 9000"),
    ({"survey_id": "s", "score": 5, "tags": {"k%d" % i: "v" for i in range(17)}},
     "tags: at most 16 pairs, got 17"),
    ({"survey_id": "s", "score": 5, "tags": {"Bad Key": "v"}},
     'tags: key "Bad Key" must match [a-z0-9_]{1,32}'),
    ({"survey_id": "s", "score": 5, "tags": {"x": "v" * 129}}, 'tags["x"]: value at most 128 bytes'),
    ({"survey_id": "s", "score": 5, "submitted_at_ms": int(time.time() * 1000) + 3_600_000},
     "submitted_at_ms: more than 5 minutes in the future"),
    ({"survey_id": "s", "score": 5, "idempotency_key": "k" * 129}, "idempotency_key: at most 128 bytes"),
    ({"survey_id": "s", "score": 5, "language": "english"},
     'language: must be a BCP-47 primary tag like "en"'),
    ({"survey_id": "s", "score": 5, "language": "xx"}, 'language: "xx" is not supported (supported: '),
    ({"survey_id": "s", "score": 5, "channel": "Web"}, "channel: must match [a-z0-9_]{1,32}"),
    ({"survey_id": "s", "score": 5, "respondent_id": "r" * 129}, "respondent_id: at most 128 bytes"),
]


@pytest.mark.parametrize("fields,message", BAD_RESPONSES, ids=[m.split(":")[0] + str(i)
                                                               for i, (_, m) in enumerate(BAD_RESPONSES)])
def test_response_validation(server, fields, message):
    c = server.client("submit")
    e = expect_error(c.call, SUBMIT, **fields)
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e.details()
    assert e.details().startswith(message), e.details()


BAD_REVIEWS = [
    ({"source": "google", "external_id": "g1", "rating": 0}, "rating: must be 1..5, got 0"),
    ({"source": "google", "external_id": "g1", "rating": 6}, "rating: must be 1..5, got 6"),
    ({"external_id": "g1", "rating": 4}, "source: required"),
    ({"source": "google", "rating": 4}, "external_id: required"),
    ({"source": "google", "external_id": "a b", "rating": 4}, "external_id: must match [A-Za-z0-9._:-]{1,128}"),
    ({"source": "google", "external_id": "g1", "rating": 4, "title": "t" * 1025},
     "title: at most 1024 bytes, got 1025"),
    ({"source": "google", "external_id": "g1", "rating": 4, "text": "t" * 8193},
     "text: at most 8192 bytes, got 8193"),
]


@pytest.mark.parametrize("fields,message", BAD_REVIEWS, ids=[m.split(":")[0] + str(i)
                                                             for i, (_, m) in enumerate(BAD_REVIEWS)])
def test_review_validation(server, fields, message):
    c = server.client("submit")
    e = expect_error(c.call, REVIEW, **fields)
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e.details()
    assert e.details().startswith(message), e.details()


def test_invalid_utf8_is_rejected(server):
    c = server.client("submit")
    payload = (_field_bytes(1, b"s1") + _field_varint(2, 5) +
               _field_bytes(3, b"seventeen bytes!!\xff rest"))
    e = expect_error(c.raw, "/feedback.v1.Ingest/SubmitResponse", payload)
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.details() == "comment: must be valid UTF-8 (invalid byte at offset 17)"
    payload = _field_bytes(1, b"s1") + _field_varint(2, 5) + _field_bytes(4, b"\xc3")
    e = expect_error(c.raw, "/feedback.v1.Ingest/SubmitResponse", payload)
    assert e.details().startswith("respondent_id: must be valid UTF-8")


def test_idempotent_retry_also_after_restart(server):
    c = server.client("submit")
    req = dict(survey_id="s", score=6, comment="meh", idempotency_key="form-1",
               tags={"b": "2", "a": "1"}, submitted_at_ms=int(time.time() * 1000))
    first = c.call(SUBMIT, **req)
    assert not first.duplicate
    again = c.call(SUBMIT, **req)
    assert again.duplicate and again.id == first.id
    assert again.category == first.category
    assert again.sentiment.compound == first.sentiment.compound
    other = dict(req, score=7)
    e = expect_error(c.call, SUBMIT, **other)
    assert e.code() == grpc.StatusCode.ALREADY_EXISTS
    assert e.details() == "idempotency_key: already used for a different request"

    server.restart()
    c = server.client("submit")
    again = c.call(SUBMIT, **req)
    assert again.duplicate and again.id == first.id
    server.restart(kill=True)
    c = server.client("submit")
    again = c.call(SUBMIT, **req)
    assert again.duplicate and again.id == first.id
    assert [i.id for i in list_all(server.client("read"))] == [first.id]


def test_reviews(server):
    c, read = server.client("submit"), server.client("read")
    r = c.call(REVIEW, source="google", external_id="g-1", rating=5, title="Lovely",
               text="Great food and friendly staff")
    assert to_dict(r)["category"] == "PROMOTER" and r.sentiment.compound > 0
    dup = c.call(REVIEW, source="google", external_id="g-1", rating=5, title="Lovely",
                 text="Great food and friendly staff")
    assert dup.duplicate and dup.id == r.id
    e = expect_error(c.call, REVIEW, source="google", external_id="g-1", rating=1)
    assert e.code() == grpc.StatusCode.ALREADY_EXISTS
    assert e.details().startswith("external_id:")
    r4 = c.call(REVIEW, source="yelp", external_id="g-1", rating=4)
    assert to_dict(r4)["category"] == "PASSIVE"
    r2 = c.call(REVIEW, source="site", external_id="x", rating=2, text="Cold food, rude waiter")
    assert to_dict(r2)["category"] == "DETRACTOR" and r2.sentiment.compound < 0
    items = list_all(read, kind="REVIEW")
    assert {i.id for i in items} == {r.id, r4.id, r2.id}
    got = [i for i in items if i.id == r.id][0]
    assert got.channel == "google" and got.rating == 5 and got.title == "Lovely"


def test_import_summary(server):
    c = server.client("submit")
    items = []
    for i in range(300):
        items.append({"response": {"survey_id": "imp", "score": i % 11, "comment": "row %d" % i,
                                   "idempotency_key": "row-%d" % i}})
    items[5] = {"review": {"source": "google", "external_id": "e5", "rating": 0}}
    items[7] = {"response": {"survey_id": "imp", "score": 11}}
    items[280] = dict(items[279])                      # the same row again: a duplicate
    items[281] = {"response": {"survey_id": "imp", "score": 1, "idempotency_key": "row-0"}}
    items[299] = {}                                    # neither response nor review
    s = c.client_stream(IMPORT, items)
    assert s.rejected == 4, to_dict(s)
    assert s.duplicates == 1
    assert s.accepted == 295
    rej = {r.index: r for r in s.rejections}
    assert rej[5].field == "rating" and rej[5].reason == "must be 1..5, got 0"
    assert rej[7].field == "score" and rej[7].reason == "must be 0..10, got 11"
    assert rej[281].field == "idempotency_key"
    assert rej[299].field == "item"
    assert len(list_all(server.client("read"), survey_id="imp")) == 295
    # importing the same file again only finds duplicates
    s2 = c.client_stream(IMPORT, [it for k, it in enumerate(items) if k not in (5, 7, 281, 299)])
    assert s2.accepted == 0 and s2.duplicates == 296 and s2.rejected == 0


def test_import_rejections_capped_at_100(server):
    c = server.client("submit")
    s = c.client_stream(IMPORT, [{"response": {"survey_id": "cap", "score": 42}}] * 150)
    assert s.rejected == 150 and s.accepted == 0
    assert len(s.rejections) == 100
    assert [r.index for r in s.rejections] == list(range(100))


def test_concurrent_submitters(server):
    n = 200
    key = server.keys["submit"]

    def one(i):
        with fbclient.Client(server.addr, key=key) as c:
            return c.call(SUBMIT, survey_id="conc", score=i % 11, comment="visitor %d" % i,
                          idempotency_key="conc-%d" % i, timeout=30).id

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        ids = list(pool.map(one, range(n)))
    assert len(set(ids)) == n
    listed = list_all(server.client("read"), survey_id="conc")
    assert sorted(i.id for i in listed) == sorted(ids)


def test_roles(server):
    e = expect_error(server.client("read").call, SUBMIT, survey_id="s", score=1)
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    e = expect_error(server.client("alerts").call, SUBMIT, survey_id="s", score=1)
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    e = expect_error(server.client("submit").call, LIST)
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    e = expect_error(server.client("submit").call, ANALYZE, text="hi")
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    assert server.client("admin").call(SUBMIT, survey_id="s", score=1).id
    assert server.client("admin").call(LIST).items
    e = expect_error(server.client(key="").call, SUBMIT, survey_id="s", score=1)
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED


def test_analyze(server):
    c = server.client("read")
    s = c.call(ANALYZE, text="The delivery was late and the food was cold", explain=True)
    assert s.compound < -0.05
    assert to_dict(s)["label"] in ("NEGATIVE", "VERY_NEGATIVE")
    assert s.language == "en"
    assert s.contributions and all(x.span.end > x.span.start for x in s.contributions)
    plain = c.call(ANALYZE, text="The delivery was late and the food was cold")
    assert not plain.contributions and plain.compound == s.compound
    e = expect_error(c.call, ANALYZE, text="x" * 8193)
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.details() == "text: at most 8192 bytes, got 8193"
    e = expect_error(c.call, ANALYZE, text="hola", language="zz")
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and e.details().startswith("language:")
    assert len(c.call(LIST).items) == 0   # nothing was stored


def _import_future(c, items, timeout=30):
    m = c.method(IMPORT)
    fn = c.channel.stream_unary(m.path, request_serializer=lambda x: x.SerializeToString(),
                                response_deserializer=m.response.FromString)
    msgs = (c.msg("feedback.v1.ImportItem", it) for it in items)
    return fn.future(msgs, metadata=[("authorization", "Bearer " + c.key)], timeout=timeout)


def test_import_large_stream(server):
    c = server.client("submit")
    n = 5000
    s = c.client_stream(IMPORT, ({"response": {"survey_id": "big", "score": i % 11,
                                               "idempotency_key": "big-%d" % i}} for i in range(n)))
    assert (s.accepted, s.duplicates, s.rejected) == (n, 0, 0)
    assert len(list_all(server.client("read"), survey_id="big")) == n


def test_import_cancelled_and_deadline(server):
    import threading
    c = server.client("submit")
    release = threading.Event()

    def items():
        for i in range(600):               # two full batches and a part
            yield {"response": {"survey_id": "cx", "score": 5, "idempotency_key": "cx-%d" % i}}
        release.wait(10)                   # then the client stalls

    fut = _import_future(c, items())
    time.sleep(1.0)
    assert fut.cancel()
    release.set()
    with pytest.raises(grpc.FutureCancelledError):
        fut.result()
    release.clear()
    fut = _import_future(c, items(), timeout=1.0)
    e = expect_error(fut.result)
    release.set()
    assert e.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # the server is fine, and whatever was committed is whole: a fresh import
    # of the same rows completes every one exactly once
    s = c.client_stream(IMPORT, [{"response": {"survey_id": "cx", "score": 5,
                                               "idempotency_key": "cx-%d" % i}} for i in range(600)])
    assert s.accepted + s.duplicates == 600 and s.rejected == 0
    assert len(list_all(server.client("read"), survey_id="cx")) == 600


def test_languages(server):
    sub, read = server.client("submit"), server.client("read")
    r = sub.call(SUBMIT, survey_id="l", score=2, language="es",
                 comment="El servicio fue muy lento y la comida estaba fría")
    assert r.sentiment.language == "es" and r.sentiment.compound < 0
    # no language: the tenant's default (en unless UpdateSettings changed it)
    r = sub.call(SUBMIT, survey_id="l", score=9, comment="Great")
    assert r.sentiment.language == "en"
    stored = {i.id: i for i in list_all(read, survey_id="l")}
    assert stored[r.id].language == "en"
    # Analyze without a language guesses from the text
    s = read.call(ANALYZE, text="Le personnel était très impoli et le repas était froid")
    assert s.language == "fr" and s.compound < 0
    e = expect_error(sub.call, SUBMIT, survey_id="l", score=5, language="xx")
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    for lang in ("en", "es", "fr", "de", "pt"):
        assert lang in e.details()

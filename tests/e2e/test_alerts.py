"""End-to-end: staff alerts (feedback.v1.Alerts) against a real feedbackd.

Subscribe live and by replay, resume without loss or duplicates, 1,000
concurrent subscribers with filters, durability across kill -9, SLA
escalation, silences and quiet hours, keyword and mismatch rules, Ack and
ListAlerts with their stats, roles, NPS_DROP per channel and tag segment.
"""
import asyncio
import threading
import time

import grpc
import pytest

import fbclient
from fbclient import expect_error

SUBSCRIBE = "feedback.v1.Alerts/Subscribe"
SUBMIT = "feedback.v1.Ingest/SubmitResponse"
REVIEW = "feedback.v1.Ingest/SubmitReview"


class Sub:
    """A subscriber reading its stream on a thread."""

    def __init__(self, client, **req):
        self.call = client.stream(SUBSCRIBE, **req)
        self.alerts = []
        self.error = None
        self.cv = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for a in self.call:
                with self.cv:
                    self.alerts.append(a)
                    self.cv.notify_all()
        except grpc.RpcError as e:
            with self.cv:
                self.error = e
                self.cv.notify_all()

    def wait(self, n, timeout=10):
        deadline = time.time() + timeout
        with self.cv:
            while len(self.alerts) < n and self.error is None:
                left = deadline - time.time()
                if left <= 0:
                    break
                self.cv.wait(left)
            return list(self.alerts)

    def cancel(self):
        self.call.cancel()
        self.thread.join(5)


def submit(c, score, comment="", survey="s1", **kw):
    return c.call(SUBMIT, survey_id=survey, score=score, comment=comment, **kw)


def kind_names(a):
    enum = fbclient.message_class("feedback.v1.Alert").DESCRIPTOR.enum_types_by_name["Kind"]
    return {enum.values_by_number[k].name for k in list(a.kinds) + [a.kind]}


def update_rules(server, mask, rules, **settings):
    admin = server.client("admin")
    return admin.call("feedback.v1.Admin/UpdateSettings",
                      settings=dict(settings, alert_rules=rules), update_mask=mask)


def test_detractor_alert_arrives_live(server):
    alerts = server.client("alerts")
    sub = Sub(alerts)
    time.sleep(0.3)  # let the replay (of nothing) finish; the alert must come live either way
    r = submit(server.client("submit"), 2, "Terrible service. I want a refund!")
    got = sub.wait(1)
    sub.cancel()
    assert len(got) == 1
    a = got[0]
    assert list(r.alert_ids) == [a.id]
    assert a.seq == 1 and a.feedback_id == r.id and a.survey_id == "s1"
    assert a.HasField("score") and a.score == 2
    assert {"DETRACTOR", "KEYWORD"} <= kind_names(a)
    assert list(a.matched) == ["refund"]
    assert a.reason.startswith("Detractor score 2 with") and a.reason.endswith("mentioning refund.")
    assert "refund" in a.excerpt
    assert a.state == fbclient.message_class("feedback.v1.Alert").DESCRIPTOR \
        .fields_by_name["state"].enum_type.values_by_name["OPEN"].number


def test_resume_receives_exactly_the_missed_alerts(server):
    submitter = server.client("submit")
    alerts = server.client("alerts")
    sub = Sub(alerts)
    submit(submitter, 0, "awful")
    first = sub.wait(1)
    assert len(first) == 1
    sub.cancel()
    last = first[-1].seq
    ids = []
    for i in range(100):
        ids.append(submit(submitter, i % 7, "bad %d" % i).alert_ids[0])
    sub = Sub(alerts, after_seq=last)
    got = sub.wait(100)
    assert [a.id for a in got] == ids
    seqs = [a.seq for a in got]
    assert seqs == sorted(set(seqs)) and seqs[0] > last
    # and then live, without a gap or a repeat
    live = submit(submitter, 1, "still bad").alert_ids[0]
    got = sub.wait(101)
    sub.cancel()
    assert len(got) == 101 and got[-1].id == live and got[-1].seq > seqs[-1]


def test_roles(server):
    e = expect_error(lambda: list(server.client("submit").stream(SUBSCRIBE, timeout=5)))
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    e = expect_error(server.client("read").call, "feedback.v1.Alerts/ListAlerts")
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    e = expect_error(lambda: list(server.client(key="fbk_nope").stream(SUBSCRIBE, timeout=5)))
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED
    # admin may subscribe too; a bad filter is INVALID_ARGUMENT naming the field
    e = expect_error(lambda: list(server.client("admin").stream(SUBSCRIBE, kinds=[42], timeout=5)))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "kinds" in e.details()
    e = expect_error(lambda: list(server.client("alerts").stream(SUBSCRIBE, after_seq=7, timeout=5)))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "after_seq" in e.details()


def test_thousand_concurrent_subscribers_with_filters(server):
    n_subs, n_channels = 1000, 4
    key = server.keys["alerts"]
    plan = [(5, "a", ""), (3, "b", "refund please"), (4, "a", "refund"), (10, "b", "")]
    # expected per filter: all (3 alerts: 5/a, 3/b, 4/a); survey a (2); KEYWORD kind (2)
    method = fbclient.Method(SUBSCRIBE)

    async def run():
        channels = [grpc.aio.insecure_channel(server.addr) for _ in range(n_channels)]
        md = (("authorization", "Bearer " + key),)
        calls, wants = [], []
        for i in range(n_subs):
            if i % 3 == 0:
                req, want = {}, 3
            elif i % 3 == 1:
                req, want = {"survey_ids": ["a"]}, 2
            else:
                req, want = {"kinds": ["KEYWORD"]}, 2
            stub = channels[i % n_channels].unary_stream(
                method.path, request_serializer=lambda x: x.SerializeToString(),
                response_deserializer=method.response.FromString)
            calls.append(stub(fbclient.make("feedback.v1.SubscribeRequest", req), metadata=md,
                              timeout=60))
            wants.append((want, req))

        async def read(call, want):
            out = []
            async for a in call:
                out.append(a)
                if len(out) == want:
                    break
            return out

        readers = [asyncio.ensure_future(read(c, w)) for c, (w, _) in zip(calls, wants)]
        # (the server sends headers with the first alert, so there is no
        # "registered" signal: give the streams a moment, and whichever way
        # an alert reaches a stream — replay or live — it must arrive once)
        await asyncio.sleep(2)
        sc = server.client("submit")
        await asyncio.get_event_loop().run_in_executor(
            None, lambda: [submit(sc, s, text, survey=sv) for s, sv, text in plan])
        results = await asyncio.wait_for(asyncio.gather(*readers), 60)
        for c in calls:
            c.cancel()
        for ch in channels:
            await ch.close()
        return results

    results = asyncio.new_event_loop().run_until_complete(run())
    for i, got in enumerate(results):
        assert len(got) == (3 if i % 3 == 0 else 2), "subscriber %d got %d" % (i, len(got))
        seqs = [a.seq for a in got]
        assert seqs == sorted(set(seqs))
    assert [a.survey_id for a in results[1]] == ["a", "a"]
    assert all("KEYWORD" in kind_names(a) for a in results[2])


def test_alert_survives_kill9_right_after_commit(server):
    r = submit(server.client("submit"), 1, "The worst. Never again.")
    assert len(r.alert_ids) == 1
    server.kill9()
    server.start()
    sub = Sub(server.client("alerts"), after_seq=0)
    got = sub.wait(1)
    sub.cancel()
    assert [a.id for a in got] == list(r.alert_ids)
    # and the seq goes on from there
    r2 = submit(server.client("submit"), 1, "again")
    page = server.client("alerts").call("feedback.v1.Alerts/ListAlerts")
    assert [a.id for a in page.alerts] == [r2.alert_ids[0], r.alert_ids[0]]
    assert page.alerts[0].seq == 2


def test_keyword_and_mismatch_rules(server):
    sc = server.client("submit")
    update_rules(server, ["alert_rules.keywords"],
                 {"keywords": ["food poisoning", "cancel my account", "lawyer"]})
    r = submit(sc, 8, "Nice place but I think I got food poisoned; talking to my lawyers")
    alerts = server.client("alerts")
    a = alerts.call("feedback.v1.Alerts/ListAlerts").alerts[0]
    assert a.id == r.alert_ids[0]
    assert "KEYWORD" in kind_names(a)
    assert list(a.matched) == ["food poisoning", "lawyer"]
    assert a.severity >= 3  # HIGH
    r = submit(sc, 10, "Horrible, rude staff, disgusting food, worst evening ever.")
    a = alerts.call("feedback.v1.Alerts/ListAlerts").alerts[0]
    assert a.id == r.alert_ids[0]
    assert a.kind == 5 and "SCORE_TEXT_MISMATCH" in kind_names(a)  # the headline
    assert a.reason.startswith("Promoter score 10 but")
    # a happy promoter raises nothing
    assert list(submit(sc, 10, "Wonderful, thank you!").alert_ids) == []
    # reviews: 1 star
    r = sc.call(REVIEW, source="site", external_id="x1", rating=1, text="Cold food, rude waiter.")
    a = alerts.call("feedback.v1.Alerts/ListAlerts").alerts[0]
    assert a.id == r.alert_ids[0] and "LOW_RATING" in kind_names(a) and a.rating == 1


def test_silences_and_quiet_hours(server):
    sc = server.client("submit")
    now = int(time.time() * 1000)
    update_rules(server, ["alert_rules.silences"],
                 {"silences": [{"matcher": "parking", "expires_ms": now + 3600 * 1000}]})
    live = Sub(server.client("alerts"))
    held_too = Sub(server.client("alerts"), include_held=True)
    r1 = submit(sc, 2, "The parking was a nightmare")
    r2 = submit(sc, 2, "The waiter was rude")
    got = live.wait(1)
    assert [a.id for a in got] == list(r2.alert_ids)
    got = held_too.wait(2)
    assert [a.id for a in got] == [r1.alert_ids[0], r2.alert_ids[0]] and got[0].held
    page = server.client("alerts").call("feedback.v1.Alerts/ListAlerts")
    held = {a.id: a.held for a in page.alerts}
    assert held == {r1.alert_ids[0]: True, r2.alert_ids[0]: False}

    # quiet hours around now (UTC): MEDIUM is held, CRITICAL still goes out
    minute = (now // 60000) % 1440
    update_rules(server, ["alert_rules.quiet_hours", "alert_rules.silences", "timezone"],
                 {"quiet_hours": {"enabled": True, "start_minute": (minute - 30) % 1440,
                                  "end_minute": (minute + 30) % 1440, "max_held_severity": "HIGH"}},
                 timezone="UTC")
    r3 = submit(sc, 1, "")                                       # MEDIUM
    r4 = submit(sc, 0, "Disgusting and awful, I want a refund")  # CRITICAL
    got = live.wait(2)
    live.cancel()
    held_too.cancel()
    assert [a.id for a in got] == [r2.alert_ids[0], r4.alert_ids[0]]
    assert got[1].severity == 4
    page = server.client("alerts").call("feedback.v1.Alerts/ListAlerts")
    assert {a.id: a.held for a in page.alerts}[r3.alert_ids[0]] is True
    # a resuming subscriber does not get held alerts on replay either
    sub = Sub(server.client("alerts"), after_seq=0)
    got = sub.wait(2)
    sub.cancel()
    assert [a.id for a in got] == [r2.alert_ids[0], r4.alert_ids[0]]


def test_repeat_feedback_joins_and_is_redelivered(server):
    sc = server.client("submit")
    sub = Sub(server.client("alerts"))
    a1 = submit(sc, 5, "slow", respondent_id="cust-1").alert_ids[0]
    a2 = submit(sc, 1, "still waiting", respondent_id="cust-1").alert_ids[0]
    assert a1 == a2
    got = sub.wait(2)
    sub.cancel()
    assert [a.id for a in got] == [a1, a1]
    assert got[1].occurrences == 2 and got[1].seq > got[0].seq and len(got[1].feedback_ids) == 2


def test_ack_and_list_with_stats(server):
    sc = server.client("submit")
    ids = [submit(sc, 2, "bad").alert_ids[0] for _ in range(3)]
    staff = server.client("alerts")
    a = staff.call("feedback.v1.Alerts/Ack", alert_id=ids[0], state="ACKNOWLEDGED", note="on it")
    assert a.acked_by == "alerts" and a.acked_ms > 0 and a.note == "on it"
    a = staff.call("feedback.v1.Alerts/Ack", alert_id=ids[1], state="RESOLVED")
    assert a.resolved_by == "alerts" and a.acked_ms > 0 and a.resolved_ms >= a.acked_ms
    e = expect_error(staff.call, "feedback.v1.Alerts/Ack", alert_id=ids[1], state="ACKNOWLEDGED")
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "RESOLVED" in e.details()
    e = expect_error(staff.call, "feedback.v1.Alerts/Ack", alert_id="al_nope", state="RESOLVED")
    assert e.code() == grpc.StatusCode.NOT_FOUND
    page = staff.call("feedback.v1.Alerts/ListAlerts", state="OPEN")
    assert [x.id for x in page.alerts] == [ids[2]]
    page = staff.call("feedback.v1.Alerts/ListAlerts", page_size=2)
    assert len(page.alerts) == 2 and page.next_page_token
    assert page.stats.total == 3 and page.stats.acknowledged == 2 and page.stats.resolved == 1
    assert page.stats.within_sla_share == 1.0
    rest = staff.call("feedback.v1.Alerts/ListAlerts", page_size=2, page_token=page.next_page_token)
    assert [x.id for x in list(page.alerts) + list(rest.alerts)] == ids[::-1]
    e = expect_error(staff.call, "feedback.v1.Alerts/ListAlerts", from_ms=10, to_ms=5)
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "to_ms" in e.details()


def test_stream_ends_unavailable_on_shutdown(server):
    own = fbclient.Client(server.addr, key=server.keys["alerts"])  # stays open across stop()
    submit(server.client("submit"), 1, "")
    sub = Sub(own)
    assert len(sub.wait(1)) == 1
    server.stop()
    sub.thread.join(5)
    own.close()
    assert sub.error is not None and sub.error.code() == grpc.StatusCode.UNAVAILABLE
    assert "resume with after_seq=1" in sub.error.details()


@pytest.mark.slow
def test_sla_escalation(server):
    # the settings module accepts sla_ms >= 60 s: the shortest test SLA
    update_rules(server, ["alert_rules.sla_ms"], {"sla_ms": 60000})
    sc = server.client("submit")
    sub = Sub(server.client("alerts"), kinds=["SLA_BREACH"])
    late = submit(sc, 4, "slow").alert_ids[0]
    acked = submit(sc, 4, "slow").alert_ids[0]
    server.client("alerts").call("feedback.v1.Alerts/Ack", alert_id=acked, state="ACKNOWLEDGED")
    got = sub.wait(1, timeout=75)
    time.sleep(2)  # nothing more comes: the acknowledged one does not escalate
    sub.cancel()
    assert len(sub.alerts) == 1
    e = got[0]
    assert e.escalates_id == late and e.kind == 7
    assert e.severity == 3  # MEDIUM -> HIGH
    assert "not acknowledged within 1 min" in e.reason


def test_slow_subscriber_is_closed_and_resumes_without_loss(server):
    # well past the stream's queue (1,024) plus what HTTP/2 windows and the
    # client library buffer (several MB): 20,000 alerts of ~700 bytes
    n = 20000
    own = fbclient.Client(server.addr, key=server.keys["alerts"])
    call = own.stream(SUBSCRIBE, timeout=120)  # opened, never read while alerts pile up
    time.sleep(0.3)
    items = ({"response": {"survey_id": "s1", "score": 1, "comment": "bad %d %s" % (i, "x" * 300)}}
             for i in range(n))
    summary = server.client("submit").client_stream("feedback.v1.Ingest/Import", items, timeout=120)
    assert summary.accepted == n
    got = []
    with pytest.raises(grpc.RpcError) as ei:
        for a in call:
            got.append(a.seq)
    e = ei.value
    assert e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "too slow" in e.details()
    resume = int(e.details().rsplit("after_seq=", 1)[1])
    assert got == list(range(1, len(got) + 1)) and resume == got[-1] < n
    # meanwhile other subscribers were not held back
    fast = Sub(server.client("alerts"), after_seq=n - 1)
    assert [a.seq for a in fast.wait(1)] == [n]
    fast.cancel()
    # resuming from the seq in the message gives exactly the rest
    sub = Sub(own, after_seq=resume)
    rest = sub.wait(n - resume, timeout=60)
    sub.cancel()
    own.close()
    assert [a.seq for a in rest] == list(range(resume + 1, n + 1))


def nps_seed(survey, channel, tags, promoters, passives, detractors, start_ms):
    """Backdated answers, 20 minutes apart from start_ms."""
    scores = [10] * promoters + [8] * passives + [0] * detractors
    return [{"response": {"survey_id": survey, "score": s, "channel": channel, "tags": tags,
                          "submitted_at_ms": start_ms + i * 20 * 60000}}
            for i, s in enumerate(scores)]


def test_nps_drop_per_channel_and_tag_segment(server):
    day = 86400000
    now = int(time.time() * 1000)
    if day - now % day < 60000:  # the once-a-day check below must not straddle UTC midnight
        time.sleep((day - now % day) / 1000 + 1)
        now = int(time.time() * 1000)
    # seed with the rule off: nothing is evaluated on a half-loaded sample
    update_rules(server, ["alert_rules.nps_drop"], {"nps_drop": False})
    # npsc: email 60 -> -20 (30 answers a period), web 200 a period at 0: the
    # survey as a whole does not drop significantly. npst: the same with the
    # tag location=paris against location=lyon, all on channel web.
    items = (nps_seed("npsc", "email", {}, 21, 6, 3, now - 20 * day) +
             nps_seed("npsc", "email", {}, 9, 6, 15, now - 3 * day) +
             nps_seed("npsc", "web", {}, 100, 0, 100, now - 30 * day) +
             nps_seed("npsc", "web", {}, 100, 0, 100, now - 5 * day) +
             nps_seed("npst", "web", {"location": "paris"}, 21, 6, 3, now - 20 * day) +
             nps_seed("npst", "web", {"location": "paris"}, 9, 6, 15, now - 3 * day) +
             nps_seed("npst", "web", {"location": "lyon"}, 100, 0, 100, now - 30 * day) +
             nps_seed("npst", "web", {"location": "lyon"}, 100, 0, 100, now - 5 * day))
    sc = server.client("submit")
    assert sc.client_stream("feedback.v1.Ingest/Import", items).accepted == len(items)
    update_rules(server, ["alert_rules.nps_drop"], {"nps_drop": True})
    alerts = server.client("alerts")
    sub = Sub(alerts, kinds=["NPS_DROP"])
    elsewhere = Sub(alerts, kinds=["NPS_DROP"], survey_ids=["other"])
    # today's first feedback in a segment gets it evaluated (by the next timer tick)
    submit(sc, 8, survey="npsc", channel="email")
    submit(sc, 8, survey="npst", channel="web", tags={"location": "paris"})
    got = sub.wait(2)
    time.sleep(2.5)  # no more: not the surveys as a whole, not web, not lyon
    assert len(sub.alerts) == 2, [a.reason for a in sub.alerts]
    by_survey = {a.survey_id: a for a in got}
    c, t = by_survey["npsc"], by_survey["npst"]
    assert c.kind == 6 and c.severity == 3  # NPS_DROP, HIGH
    assert c.channel == "email" and dict(c.tags) == {}
    assert c.reason.startswith("NPS for survey npsc, channel email, fell from 60 over the previous 28 days to -19 "
                               "over the last 7 days (significant at 95%"), c.reason
    assert t.channel == "" and dict(t.tags) == {"location": "paris"}
    assert t.reason.startswith("NPS for survey npst, tag location=paris, fell from 60 "), t.reason
    # at most once a day per (survey, segment): more feedback today raises nothing
    submit(sc, 0, survey="npsc", channel="email")
    submit(sc, 0, survey="npst", channel="web", tags={"location": "paris"})
    time.sleep(2.5)
    sub.cancel()
    elsewhere.cancel()
    assert len(sub.alerts) == 2
    assert elsewhere.alerts == []
    page = alerts.call("feedback.v1.Alerts/ListAlerts", kind="NPS_DROP")
    assert sorted(a.id for a in page.alerts) == sorted(a.id for a in got)

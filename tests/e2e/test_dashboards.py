"""End-to-end: dashboards (Insights GetNps/GetTrend/TopTerms) and Admin
GetSettings/UpdateSettings/EraseRespondent, through Debian's python3-grpcio
against a real feedbackd on 127.0.0.1."""
import time

import grpc
import pytest

from fbclient import expect_error, to_dict

HOUR = 3600 * 1000
DAY = 24 * HOUR

COMMENTS = [
    "The staff was rude and the wait was awful",
    "Great food, lovely staff, will come back",
    "Slow service and cold food",
    "Terrible wait, rude waiter",
    "Nice place, fair prices",
    "",
    "The food was cold and the staff rude",
    "Excellent service, friendly staff",
]


def day_start(now_ms):
    return (now_ms // DAY) * DAY


def feed(c, items):
    for it in items:
        c.call("feedback.v1.Ingest/SubmitResponse", it)


def make_items(base):
    """A deterministic set of responses over 10 days before base."""
    items = []
    for i in range(60):
        it = {
            "survey_id": "s1" if i % 3 else "s2",
            "score": (i * 7) % 11,
            "comment": COMMENTS[i % len(COMMENTS)],
            "respondent_id": "r%d" % (i % 6),
            "channel": ["web", "email", "sms"][i % 3],
            "tags": {"location": ["north", "south"][i % 2]},
            "submitted_at_ms": base - DAY * (i % 10) - HOUR * (i % 7) - 1000 * i,
            "language": "en",
        }
        if i % 4 == 0:
            del it["tags"]
        items.append(it)
    return items


def nps(c, **q):
    return to_dict(c.call("feedback.v1.Insights/GetNps", q))


def trend(c, **q):
    return to_dict(c.call("feedback.v1.Insights/GetTrend", q))


def terms(c, **q):
    return to_dict(c.call("feedback.v1.Insights/TopTerms", q))


def naive_counts(items, lo, hi, pred=lambda it: True):
    p = a = d = 0
    for it in items:
        if lo <= it["submitted_at_ms"] < hi and pred(it):
            s = it["score"]
            if s >= 9:
                p += 1
            elif s >= 7:
                a += 1
            else:
                d += 1
    return p, a, d


def test_nps_trend_terms(server):
    admin = server.client("admin")
    read = server.client("read")
    now = int(time.time() * 1000)
    base = day_start(now)  # items lie before today's UTC midnight
    items = make_items(base)
    feed(server.client("submit"), items)

    lo, hi = base - 20 * DAY, base
    r = nps(read, from_ms=lo, to_ms=hi, compare_previous=True)
    p, a, d = naive_counts(items, lo, hi)
    assert (r["promoters"], r["passives"], r["detractors"], r["n"]) == (p, a, d, p + a + d)
    n = p + a + d
    assert abs(r["nps"] - 100.0 * (p - d) / n) < 1e-9
    # adjusted Wald, recomputed here
    na = n + 3
    pp, dd = (p + 0.75) / na, (d + 0.75) / na
    margin = 1.96 * ((pp + dd - (pp - dd) ** 2) / na) ** 0.5 * 100
    assert abs(r["margin_95"] - margin) < 1e-9
    assert r["sufficient"] is True and r["min_sample"] == 30
    assert r["previous"]["n"] == 0 and int(r["from_ms"]) == lo and int(r["to_ms"]) == hi
    assert -1 <= r["mean_sentiment"] <= 1 and r["mean_sentiment"] != 0

    # filters: one channel, one tag, one survey
    r = nps(read, from_ms=lo, to_ms=hi, filter={"channel": "web"})
    assert r["n"] == sum(naive_counts(items, lo, hi, lambda it: it["channel"] == "web"))
    r = nps(read, from_ms=lo, to_ms=hi, filter={"tags": {"location": "north"}})
    assert r["n"] == sum(naive_counts(items, lo, hi, lambda it: it.get("tags", {}).get("location") == "north"))
    r = nps(read, survey_id="s2", from_ms=lo, to_ms=hi)
    assert r["n"] == sum(naive_counts(items, lo, hi, lambda it: it["survey_id"] == "s2"))
    assert r["sufficient"] is False

    # a daily trend with empty buckets (n = 0) so charts have no gaps
    t = trend(read, from_ms=base - 14 * DAY, to_ms=base, granularity="DAY")
    assert t["timezone"] == "UTC" and len(t["series"]) == 1
    b = t["series"][0]["buckets"]
    assert len(b) == 14
    assert [int(x["start_ms"]) for x in b] == [base - (14 - i) * DAY for i in range(14)]
    assert sum(x["n"] for x in b[:4]) == 0  # days 11..14 back: no feedback
    for x in b:
        assert x["n"] == sum(naive_counts(items, int(x["start_ms"]), int(x["end_ms"])))
    # grouped by channel and by tag
    t = trend(read, from_ms=base - 14 * DAY, to_ms=base, granularity="WEEK", group_by="channel")
    assert [s["group"] for s in t["series"]] == ["email", "sms", "web"]
    t = trend(read, from_ms=base - 14 * DAY, to_ms=base, granularity="MONTH", group_by="tag:location")
    assert [s["group"] for s in t["series"]] == ["north", "south"]
    t = trend(read, from_ms=base - 2 * DAY, to_ms=base, granularity="HOUR")
    assert len(t["series"][0]["buckets"]) == 48

    # top negative terms: the complaints, with a surface form and a share
    tt = terms(read, from_ms=lo, to_ms=hi, limit=5)
    assert tt["total"] == sum(1 for it in items if lo <= it["submitted_at_ms"] < hi)
    assert 1 <= len(tt["terms"]) <= 5
    stems = [x["stem"] for x in tt["terms"]]
    assert any(s.startswith("rude") for s in stems), stems
    for x in tt["terms"]:
        assert x["surface"] and x["mentions"] >= 1 and 0 < x["share"] <= 1
    pos = terms(read, from_ms=lo, to_ms=hi, direction="POSITIVE")
    assert pos["terms"] and pos["terms"][0]["mean_sentiment"] > 0
    asp = terms(read, from_ms=lo, to_ms=hi, by_aspect=True)
    assert all(x["aspect"] for x in asp["terms"])

    # roles: submit keys cannot read dashboards; read keys cannot administer
    e = expect_error(server.client("submit").call, "feedback.v1.Insights/GetNps", {"from_ms": lo, "to_ms": hi})
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    e = expect_error(read.call, "feedback.v1.Admin/GetSettings", {})
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    assert admin.call("feedback.v1.Insights/GetNps", {"from_ms": lo, "to_ms": hi}).n == n


def test_invalid_arguments(server):
    read = server.client("read")
    now = int(time.time() * 1000)
    cases = [
        ("GetNps", {"from_ms": now, "to_ms": now}, "from_ms"),
        ("GetNps", {"from_ms": now, "to_ms": now - 1}, "from_ms"),
        ("GetTrend", {"from_ms": now, "to_ms": now, "granularity": "DAY"}, "from_ms"),
        ("GetTrend", {"from_ms": now - 10001 * HOUR, "to_ms": now, "granularity": "HOUR"}, "10000"),
        ("GetTrend", {"from_ms": 0, "to_ms": now, "granularity": "DAY"}, "10000"),
        ("GetTrend", {"from_ms": now - DAY, "to_ms": now}, "granularity"),
        ("GetTrend", {"from_ms": now - DAY, "to_ms": now, "granularity": "DAY", "group_by": "colour"}, "group_by"),
        ("GetTrend", {"from_ms": now - DAY, "to_ms": now, "granularity": "DAY", "group_by": "tag:"}, "group_by"),
        ("GetTrend", {"from_ms": now - DAY, "to_ms": now, "granularity": "DAY", "group_by": "channel",
                      "filter": {"tags": {"location": "north"}}}, "filter"),
        ("GetNps", {"from_ms": now - DAY, "to_ms": now, "filter": {"channel": "web", "tags": {"a": "b"}}}, "filter"),
        ("TopTerms", {"from_ms": now, "to_ms": now - DAY}, "from_ms"),
        ("GetNps", {"survey_id": "no spaces allowed", "from_ms": 0, "to_ms": now}, "survey_id"),
    ]
    for method, q, word in cases:
        e = expect_error(read.call, "feedback.v1.Insights/" + method, q)
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, (method, q, e)
        assert word in e.details(), (method, q, e.details())
    # 10,000 buckets exactly is allowed
    start = (now // HOUR) * HOUR - 9999 * HOUR
    t = read.call("feedback.v1.Insights/GetTrend", {"from_ms": start, "to_ms": start + 10000 * HOUR,
                                                    "granularity": "HOUR"})
    assert len(t.series[0].buckets) == 10000


def test_settings_and_timezone(server):
    admin = server.client("admin")
    s = to_dict(admin.call("feedback.v1.Admin/GetSettings", {}))
    assert s["timezone"] == "UTC" and s["min_sample"] == 30
    now = int(time.time() * 1000)
    base = day_start(now) - 3 * DAY
    # 04:30Z is still the previous day in New York (UTC-4/-5)
    admin.call("feedback.v1.Ingest/SubmitResponse", {"survey_id": "tz", "score": 10, "submitted_at_ms": base + 4 * HOUR + 30 * 60000})
    t = trend(admin, survey_id="tz", from_ms=base - 2 * DAY, to_ms=base + 2 * DAY, granularity="DAY")
    utc_days = [(int(b["start_ms"]), b["n"]) for b in t["series"][0]["buckets"]]
    assert (base, 1) in utc_days

    s = to_dict(admin.call("feedback.v1.Admin/UpdateSettings",
                           {"settings": {"timezone": "America/New_York", "min_sample": 5}, "update_mask": ["timezone", "min_sample"]}))
    assert s["timezone"] == "America/New_York" and s["min_sample"] == 5
    t = trend(admin, survey_id="tz", from_ms=base - 2 * DAY, to_ms=base + 2 * DAY, granularity="DAY")
    assert t["timezone"] == "America/New_York"
    buckets = t["series"][0]["buckets"]
    hit = [b for b in buckets if b["n"] == 1]
    assert len(hit) == 1
    start = int(hit[0]["start_ms"])
    # the previous New York day: it starts at 04:00Z or 05:00Z (EDT/EST) a day earlier
    assert (base - start) in (DAY - 4 * HOUR, DAY - 5 * HOUR)
    assert int(hit[0]["end_ms"]) > base + 4 * HOUR + 30 * 60000
    r = nps(admin, survey_id="tz", from_ms=0, to_ms=now)
    assert r["min_sample"] == 5 and r["n"] == 1 and r["sufficient"] is False

    e = expect_error(admin.call, "feedback.v1.Admin/UpdateSettings",
                     {"settings": {"timezone": "Mars/Olympus"}, "update_mask": ["timezone"]})
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "timezone" in e.details()
    e = expect_error(admin.call, "feedback.v1.Admin/UpdateSettings",
                     {"settings": {"timezone": "../../etc/passwd"}, "update_mask": ["timezone"]})
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert to_dict(admin.call("feedback.v1.Admin/GetSettings", {}))["timezone"] == "America/New_York"


def all_answers(c, base):
    """Every dashboard answer over the data, for comparing two servers."""
    out = []
    lo, hi = base - 20 * DAY, base
    filters = [{}, {"channel": "web"}, {"channel": "sms"}, {"tags": {"location": "south"}}]
    for survey in ("", "s1", "s2"):
        for f in filters:
            out.append(nps(c, survey_id=survey, from_ms=lo + 5 * HOUR, to_ms=hi - 7 * HOUR, filter=f, compare_previous=True))
            out.append(terms(c, survey_id=survey, from_ms=lo, to_ms=hi, filter=f))
            out.append(terms(c, survey_id=survey, from_ms=lo, to_ms=hi, filter=f, direction="POSITIVE", by_aspect=True))
            for g in ("HOUR", "DAY", "WEEK", "MONTH"):
                span = 3 * DAY if g == "HOUR" else 20 * DAY
                out.append(trend(c, survey_id=survey, from_ms=hi - span, to_ms=hi, granularity=g, filter=f))
        for g in ("DAY", "WEEK"):
            for gb in ("channel", "tag:location"):
                out.append(trend(c, survey_id=survey, from_ms=lo, to_ms=hi, granularity=g, group_by=gb))
    return out


def test_erase_respondent_equals_fresh_server(server_factory):
    a = server_factory()
    admin = a.client("admin")
    admin.call("feedback.v1.Admin/UpdateSettings", {"settings": {"timezone": "Asia/Kolkata"}, "update_mask": ["timezone"]})
    now = int(time.time() * 1000)
    base = day_start(now)
    items = make_items(base)
    feed(a.client("submit"), items)
    before = nps(admin, from_ms=base - 20 * DAY, to_ms=base)

    r = admin.call("feedback.v1.Admin/EraseRespondent", {"respondent_id": "r2"})
    erased = sum(1 for it in items if it["respondent_id"] == "r2")
    assert r.feedback_erased == erased and erased > 0
    after = nps(admin, from_ms=base - 20 * DAY, to_ms=base)
    assert after["n"] == before["n"] - erased
    r = admin.call("feedback.v1.Admin/EraseRespondent", {"respondent_id": "r2"})
    assert r.feedback_erased == 0
    e = expect_error(a.client("read").call, "feedback.v1.Admin/EraseRespondent", {"respondent_id": "r1"})
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED

    b = server_factory()
    bc = b.client("admin")
    bc.call("feedback.v1.Admin/UpdateSettings", {"settings": {"timezone": "Asia/Kolkata"}, "update_mask": ["timezone"]})
    feed(b.client("submit"), [it for it in items if it["respondent_id"] != "r2"])
    ours, fresh = all_answers(admin, base), all_answers(bc, base)
    assert len(ours) == len(fresh)
    for x, y in zip(ours, fresh):
        assert x == y

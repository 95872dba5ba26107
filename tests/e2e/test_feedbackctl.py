"""End-to-end tests of feedbackctl: the real binary against a real feedbackd.

Every test runs the command-line client as a user would (subprocess, exit
status, stdout, stderr) against one server started for this module on a
fresh data directory; tests keep to their own survey ids so they do not see
each other's feedback. fbclient (Debian's python3-grpcio) is used only to
check what the client did from the server's side.

Environment: FEEDBACKCTL (default build/feedbackctl), plus conftest's
FEEDBACKD, FB_DESC and FB_E2E_ASAN (then every client run's stderr is also
checked for sanitizer reports, leaks included).
"""
import json
import os
import pty
import select
import shutil
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

import pytest

import conftest
from conftest import Server

FEEDBACKCTL = os.environ.get("FEEDBACKCTL", os.path.join(conftest.REPO, "build", "feedbackctl"))
RUN_TIMEOUT = 60 if conftest.ASAN else 15


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return "rc=%s\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.out, self.err)


def ctl(*args, srv=None, role="admin", key=None, env=None, stdin=None, addr=True, timeout=RUN_TIMEOUT):
    """Runs feedbackctl; by default with --addr and the role's key of srv as
    flags. Returns a Result (rc, out, err); checks sanitizers under ASan."""
    e = conftest.server_env()
    e.pop("FEEDBACK_ADDR", None)
    e.pop("FEEDBACK_KEY", None)
    e.pop("NO_COLOR", None)
    e.update(env or {})
    cmd = [FEEDBACKCTL]
    if srv is not None and addr:
        cmd += ["--addr", srv.addr]
    k = key if key is not None else (srv.keys.get(role) if srv is not None and role else None)
    if k:
        cmd += ["--key", k]
    cmd += [str(a) for a in args]
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=e, timeout=timeout)
    r = Result(p)
    if conftest.ASAN:
        for pat in conftest.SANITIZER_PATTERNS:
            assert pat not in r.err, "sanitizer report from feedbackctl %s:\n%s" % (args, r.err)
    return r


def ctl_on_terminal(*args, srv, role, env=None, timeout=RUN_TIMEOUT):
    """Runs feedbackctl with stdout and stderr on a pseudo-terminal; returns
    (exit status, everything it wrote there)."""
    e = conftest.server_env()
    e.pop("NO_COLOR", None)
    e.update(env or {})
    master, slave = pty.openpty()
    cmd = [FEEDBACKCTL, "--addr", srv.addr, "--key", srv.keys[role]] + [str(a) for a in args]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=e)
    os.close(slave)
    out, deadline = b"", time.time() + timeout
    try:
        while time.time() < deadline:
            if not select.select([master], [], [], 0.2)[0]:
                if p.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        rc = p.wait(timeout=max(1, deadline - time.time()))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    text = out.decode("utf-8", "replace")
    if conftest.ASAN:
        for pat in conftest.SANITIZER_PATTERNS:
            assert pat not in text, "sanitizer report from feedbackctl %s:\n%s" % (args, text)
    return rc, text


def ok(r):
    assert r.rc == 0, r
    return r


def failed(r, status, message=None):
    """A failed call: non-zero exit, `feedbackctl: STATUS: message` first on stderr."""
    assert r.rc == 1, r
    first = next((ln for ln in r.err.splitlines() if ln.startswith("feedbackctl: ")), "")
    assert first.startswith("feedbackctl: %s: " % status), r
    if message is not None:
        assert first == "feedbackctl: %s: %s" % (status, message), r
    return r


@pytest.fixture(scope="module")
def srv():
    tmp = tempfile.mkdtemp(prefix="fb-ctl-")
    s = Server(os.path.join(tmp, "data"), tmp=tmp)
    s.start()
    yield s
    try:
        s.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def tmp_path_ctl():
    d = tempfile.mkdtemp(prefix="fb-ctl-t-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def submit_json(srv, *args):
    r = ok(ctl("--json", "submit", *args, srv=srv, role="submit"))
    return json.loads(r.out)


# ---- basics: health, help, addresses and keys ----

def test_health_and_help(srv):
    r = ok(ctl("health", srv=srv, role=None))
    assert r.out.strip() == "SERVING"
    assert json.loads(ok(ctl("--json", "health", srv=srv, role=None)).out)["status"] == "SERVING"
    h = ok(ctl("--help")).out
    for cmd in ("submit", "review", "import", "list", "analyze", "--offline", "nps", "trend", "--svg",
                "terms", "watch", "--max-alerts", "--state-file", "alerts", "ack", "resolve",
                "keys create", "keys revoke", "settings get", "settings set", "erase", "health",
                "FEEDBACK_ADDR", "FEEDBACK_KEY", "--json"):
        assert cmd in h, "--help does not mention %s" % cmd
    sub = ok(ctl("submit", "--help")).out
    assert "--survey" in sub and "--idempotency-key" in sub and "watch" not in sub
    assert "--page-token" in ok(ctl("list", "--help")).out
    assert ok(ctl("help", "watch")).out == ok(ctl("watch", "-h")).out
    r = ctl("frobnicate")
    assert r.rc == 2 and "unknown command 'frobnicate'" in r.err and "--help" in r.err
    assert ctl().rc == 2


def test_addr_and_key_from_environment_or_flags(srv):
    env = {"FEEDBACK_ADDR": srv.addr, "FEEDBACK_KEY": srv.keys["submit"]}
    r = ok(ctl("--json", "submit", "--survey", "env", "--score", "8", env=env))
    assert json.loads(r.out)["category"] == "PASSIVE"
    # flags win over the environment
    bad_env = {"FEEDBACK_ADDR": "127.0.0.1:1", "FEEDBACK_KEY": "fbk_nonsense"}
    ok(ctl("submit", "--survey", "env", "--score", "8", srv=srv, role="submit", env=bad_env))
    # the environment's bad address is used when there is no flag
    r = failed(ctl("health", env=bad_env), "UNAVAILABLE")
    assert "127.0.0.1:1" in r.err and "--addr" in r.err
    # an unknown key from the environment
    r = failed(ctl("list", srv=srv, role=None, env={"FEEDBACK_KEY": "fbk_nonsense"}), "UNAUTHENTICATED")


def test_no_key_and_wrong_role(srv):
    r = failed(ctl("submit", "--survey", "s", "--score", "5", srv=srv, role=None), "UNAUTHENTICATED")
    assert "FEEDBACK_KEY" in r.err  # says what to do
    r = failed(ctl("submit", "--survey", "s", "--score", "5", srv=srv, role="read"), "PERMISSION_DENIED")
    assert "submit" in r.err.splitlines()[0]
    failed(ctl("keys", "list", srv=srv, role="submit"), "PERMISSION_DENIED")
    assert "s" not in [i["survey_id"] for i in json.loads(ok(ctl("--json", "list", "--survey", "s", srv=srv,
                                                                    role="read")).out)["items"]]


# ---- ingest ----

def test_submit_human_json_and_validation(srv):
    r = ok(ctl("submit", "--survey", "sub", "--score", "3", "--comment", "rude staff and cold food",
               "--channel", "web", "--tag", "store=paris", srv=srv, role="submit"))
    words = r.out.split()
    assert words[0] == "stored" and "DETRACTOR" in words
    fid = words[1]
    d = submit_json(srv, "--survey", "sub", "--score", "10", "--comment", "wonderful, thank you")
    assert d["category"] == "PROMOTER" and d["duplicate"] is False and d["id"] != fid
    assert d["sentiment"]["label"] in ("POSITIVE", "VERY_POSITIVE")
    # the server has both, with what the flags said
    page = srv.client("read").call("feedback.v1.Insights/ListFeedback", survey_id="sub")
    by_id = {f.id: f for f in page.items}
    assert set(by_id) == {fid, d["id"]}
    assert by_id[fid].score == 3 and by_id[fid].channel == "web" and by_id[fid].tags["store"] == "paris"
    # validation: the server's message, on stderr, exit 1
    r = ctl("submit", "--survey", "sub", "--score", "11", srv=srv, role="submit")
    failed(r, "INVALID_ARGUMENT", "score: must be 0..10, got 11")
    assert r.out == ""
    failed(ctl("submit", "--score", "5", srv=srv, role="submit"), "INVALID_ARGUMENT")
    # usage errors are the client's: exit 2
    r = ctl("submit", "--survey", "sub", "--score", "ten", srv=srv, role="submit")
    assert r.rc == 2 and "--score" in r.err
    r = ctl("submit", "--survey", "sub", "--bogus", "1", srv=srv, role="submit")
    assert r.rc == 2 and "--bogus" in r.err


def test_idempotent_retry_prints_duplicate(srv):
    args = ("submit", "--survey", "idem", "--score", "6", "--idempotency-key", "ik-1")
    first = ok(ctl(*args, srv=srv, role="submit")).out
    again = ok(ctl(*args, srv=srv, role="submit")).out
    fid = first.split()[1]
    assert first.startswith("stored ") and again.startswith("duplicate of %s" % fid), (first, again)
    assert json.loads(ok(ctl("--json", *args, srv=srv, role="submit")).out)["duplicate"] is True
    items = json.loads(ok(ctl("list", "--json", "--survey", "idem", srv=srv, role="read")).out)["items"]
    assert [i["id"] for i in items] == [fid]


def test_review(srv):
    args = ("review", "--source", "google", "--external-id", "g-77", "--rating", "1", "--survey", "rev",
            "--text", "awful, cold and late")
    r = ok(ctl(*args, srv=srv, role="submit"))
    assert r.out.startswith("stored ")
    assert ok(ctl(*args, srv=srv, role="submit")).out.startswith("duplicate of ")
    failed(ctl("review", "--source", "google", "--external-id", "g-78", "--rating", "6", srv=srv, role="submit"),
           "INVALID_ARGUMENT")
    items = json.loads(ok(ctl("--json", "list", "--kind", "review", "--survey", "rev", srv=srv, role="read")).out)
    assert [(i["source"], i["rating"]) for i in items["items"]] == [("google", 1)]


def test_import_csv(srv, tmp_path_ctl):
    path = os.path.join(tmp_path_ctl, "in.csv")
    with open(path, "w", newline="") as f:
        f.write('type,survey_id,score,comment,channel,tag:store\r\n'
                'response,imp,9,"great, really\nfast",web,paris\r\n'   # row 2: comma and newline quoted
                'response,imp,12,too high,web,paris\r\n'                # row 3 (line 4): bad score
                'response,,5,no survey,web,lyon\r\n'                    # row 4 (line 5): no survey
                'response,imp,2,"she said ""never again""",app,lyon\r\n'  # row 5
                'response,imp,x,not a number,app,lyon\r\n')              # row 6 (line 7)
    r = ok(ctl("import", path, srv=srv, role="submit"))
    assert "2 accepted" in r.out and "3 rejected" in r.out, r
    lines = r.out.splitlines()
    rej = [ln for ln in lines if ln.strip().startswith("row ")]
    assert len(rej) == 3, r
    assert rej[0].split()[1] == "3" and "line 4" in rej[0] and "score" in rej[0] and "12" in rej[0]
    assert rej[1].split()[1] == "4" and "survey_id" in rej[1]
    assert rej[2].split()[1] == "6" and "line 7" in rej[2] and "score" in rej[2] and "'x'" in rej[2]
    assert "[" not in r.err  # no progress bar when stderr is not a terminal
    items = json.loads(ok(ctl("--json", "list", "--survey", "imp", srv=srv, role="read")).out)["items"]
    comments = sorted(i["comment"] for i in items)
    assert comments == ["great, really\nfast", 'she said "never again"']
    assert {i["tags"]["store"] for i in items} == {"paris", "lyon"}
    d = json.loads(ok(ctl("--json", "import", path, srv=srv, role="submit")).out)
    assert d["accepted"] == 2 and d["rejected"] == 3
    assert [x["row"] for x in d["rejections"]] == [3, 4, 6]
    bom = os.path.join(tmp_path_ctl, "excel.csv")  # UTF-8 with a byte order mark, as spreadsheets save it
    with open(bom, "w", encoding="utf-8-sig") as f:
        f.write("survey_id,score,comment\nimp-bom,10,très bien\n")
    r = ok(ctl("import", bom, srv=srv, role="submit"))
    assert "1 accepted" in r.out and "unknown column" not in r.err, r
    r = ok(ctl("import", "-", srv=srv, role="submit", stdin="survey_id,score\nimp-stdin,4\nimp-stdin,40\n"))
    assert "1 accepted" in r.out and "row 3 (line 3): score" in r.out, r
    headless = os.path.join(tmp_path_ctl, "headless.csv")
    with open(headless, "w") as f:
        f.write("imp,9,fine\n")
    r = ctl("import", headless, srv=srv, role="submit")
    assert r.rc == 2 and "survey_id,score" in r.err, r
    failed(ctl("import", path, srv=srv, role="read"), "PERMISSION_DENIED")
    r = ctl("import", os.path.join(tmp_path_ctl, "missing.csv"), srv=srv, role="submit")
    assert r.rc == 2 and "missing.csv" in r.err


# ---- insights ----

def test_list_filters_and_paging(srv):
    for i in range(5):
        submit_json(srv, "--survey", "lst", "--score", str(i * 2), "--channel", "app" if i % 2 else "web",
                    "--comment", "line one\nline two" if i == 0 else "fine")
    r = ok(ctl("list", "--survey", "lst", srv=srv, role="read"))
    rows = [ln for ln in r.out.splitlines() if ln.strip()]
    assert len(rows) == 5 and "line one\\nline two" in r.out  # one line per item
    page = json.loads(ok(ctl("--json", "list", "--survey", "lst", "--channel", "app", srv=srv, role="read")).out)
    assert len(page["items"]) == 2 and all(i["channel"] == "app" for i in page["items"])
    page = json.loads(ok(ctl("list", "--survey", "lst", "--category", "detractor", "--json", srv=srv,
                             role="read")).out)
    assert sorted(i["score"] for i in page["items"]) == [0, 2, 4, 6]
    seen, token = [], None
    for _ in range(5):  # bounded: 5 items, 2 per page
        args = ["--json", "list", "--survey", "lst", "--limit", "2"] + (["--page-token", token] if token else [])
        page = json.loads(ok(ctl(*args, srv=srv, role="read")).out)
        seen += [i["id"] for i in page["items"]]
        token = page["next_page_token"]
        if not token:
            break
    assert len(seen) == 5 and len(set(seen)) == 5
    human = ok(ctl("list", "--survey", "lst", "--limit", "2", srv=srv, role="read")).out
    assert "more: --page-token " in human
    r = ctl("list", "--category", "grumpy", srv=srv, role="read")
    assert r.rc == 2 and "--category" in r.err
    r = ctl("list", "--limit", "lots", srv=srv, role="read")
    assert r.rc == 2 and "--limit" in r.err and "lots" in r.err and "feedbackctl list --help" in r.err


def test_analyze_online_and_offline(srv):
    r = ok(ctl("analyze", "The staff were rude and the room was dirty", srv=srv, role="read"))
    first = r.out.splitlines()[0]
    assert "NEGATIVE" in first
    assert "rude" in r.out and "dirty" in r.out and "chars" in r.out
    d = json.loads(ok(ctl("--json", "analyze", "terrible service", srv=srv, role="read")).out)
    assert d["compound"] < 0 and d["contributions"]
    # offline: no server, no key, one line out per line in
    texts = "I love this place, wonderful staff\nterrible service, never again\n\nit was ok\n"
    r = ok(ctl("analyze", "--offline", stdin=texts, env={"FEEDBACK_ADDR": "127.0.0.1:1"}))
    out = r.out.splitlines()
    assert len(out) == 4, r
    parsed = [(float(c), lab) for c, lab in (ln.split("\t") for ln in out)]
    assert parsed[0][0] > 0.05 and parsed[0][1] in ("POSITIVE", "VERY_POSITIVE")
    assert parsed[1][0] < -0.05 and parsed[1][1] in ("NEGATIVE", "VERY_NEGATIVE")
    assert parsed[2] == (0.0, "NEUTRAL")
    # online and offline agree on the same text
    online = json.loads(ok(ctl("--json", "analyze", "terrible service, never again", srv=srv, role="read")).out)
    assert abs(online["compound"] - parsed[1][0]) < 1e-4


def test_nps_trend_terms(srv, tmp_path_ctl):
    for score, text in [(10, "great food"), (9, "lovely staff"), (3, "rude waiter, cold food"),
                        (2, "cold food and rude staff"), (7, "ok")]:
        submit_json(srv, "--survey", "dash", "--score", str(score), "--comment", text, "--channel", "web")
    r = ok(ctl("nps", "--survey", "dash", srv=srv, role="read"))
    assert r.out.startswith("NPS +0.0 ± ") and "n=5" in r.out and "minimum sample" in r.out, r
    # --compare: nothing before this survey's first day
    r = ok(ctl("nps", "--survey", "dash", "--from", "1d", "--to", "now", "--compare", srv=srv, role="read"))
    assert "previous period: no responses" in r.out and "cannot compare" in r.out, r
    # a survey that went from all promoters (3 days ago) to all detractors (today)
    c = srv.client("submit")
    now_ms = int(time.time() * 1000)
    for i in range(20):
        c.call("feedback.v1.Ingest/SubmitResponse", survey_id="drop", score=10, submitted_at_ms=now_ms - 3 * 86400000 + i)
        c.call("feedback.v1.Ingest/SubmitResponse", survey_id="drop", score=1, submitted_at_ms=now_ms - 60000 + i)
    r = ok(ctl("nps", "--survey", "drop", "--from", "2d", "--to", "now", "--compare", srv=srv, role="read"))
    assert r.out.startswith("NPS -100.0") and "previous period: NPS +100.0" in r.out, r
    assert "change -200.0 points: significant drop" in r.out, r
    for i, (prev, cur) in enumerate([(10, 10), (9, 3), (4, 9)]):
        c.call("feedback.v1.Ingest/SubmitResponse", survey_id="flat", score=prev, submitted_at_ms=now_ms - 3 * 86400000 + i)
        c.call("feedback.v1.Ingest/SubmitResponse", survey_id="flat", score=cur, submitted_at_ms=now_ms - 60000 + i)
    r = ok(ctl("nps", "--survey", "flat", "--from", "2d", "--to", "now", "--compare", srv=srv, role="read"))
    assert "no significant change" in r.out, r
    r = ok(ctl("nps", "--survey", "drop", "--from", "2d", "--to", "now", "--compare", "--channel", "none",
               srv=srv, role="read"))
    assert "no responses" in r.out
    r = ok(ctl("nps", "--survey", "dash", "--from", "1d", "--to", "now", "--compare", srv=srv, role="read"))
    d = json.loads(ok(ctl("--json", "nps", "--survey", "dash", srv=srv, role="read")).out)
    assert (d["promoters"], d["passives"], d["detractors"]) == (2, 1, 2) and d["sufficient"] is False
    # trend: a table with today's bucket
    r = ok(ctl("trend", "--survey", "dash", srv=srv, role="read"))
    today = time.strftime("%Y-%m-%d", time.gmtime())
    row = [ln for ln in r.out.splitlines() if ln.startswith(today)]
    assert row and row[0].split()[1] == "5", r
    assert "▁" not in r.out and "█" not in r.out  # no sparkline when not on a terminal
    svg = os.path.join(tmp_path_ctl, "trend.svg")
    ok(ctl("trend", "--survey", "dash", "--svg", svg, srv=srv, role="read"))
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    tags = {el.tag.split("}")[1] for el in root.iter()}
    assert {"polygon", "polyline", "rect", "text"} <= tags
    r = ok(ctl("trend", "--survey", "dash", "--group-by", "channel", srv=srv, role="read"))
    assert "web" in r.out
    # grouped chart: one legend entry per group, names escaped (still well-formed XML)
    submit_json(srv, "--survey", "dash", "--score", "8", "--tag", "team=R&D <north>")
    ok(ctl("trend", "--survey", "dash", "--group-by", "tag:team", "--svg", svg, srv=srv, role="read"))
    texts = [el.text for el in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}text")]
    assert "R&D <north>" in texts, texts
    r = ctl("trend", "--survey", "dash", "--svg", os.path.join(tmp_path_ctl, "no", "such", "dir.svg"), srv=srv,
            role="read")
    assert r.rc == 1 and "cannot write" in r.err
    failed(ctl("trend", "--group-by", "colour", srv=srv, role="read"), "INVALID_ARGUMENT")
    # terms: the words behind negative feedback
    r = ok(ctl("terms", "--survey", "dash", srv=srv, role="read"))
    terms = [ln.split()[0] for ln in r.out.splitlines()[1:] if ln and not ln.startswith("(")]
    assert "rude" in terms and "cold" in terms, r
    d = json.loads(ok(ctl("--json", "terms", "--survey", "dash", "--positive", srv=srv, role="read")).out)
    positive = {t["surface"] for t in d["terms"]}
    assert ("great" in positive or "lovely" in positive) and "rude" not in positive, d


# ---- admin ----

def test_keys_create_list_revoke(srv):
    d = json.loads(ok(ctl("--json", "keys", "create", "--role", "read", "--label", "ctl test", srv=srv)).out)
    secret, kid = d["secret"], d["id"]
    assert secret and d["role"] == "READ"
    r = ok(ctl("keys", "create", "--role", "submit", srv=srv))
    assert "secret" in r.out
    listing = ok(ctl("keys", "list", srv=srv)).out
    assert kid in listing and "ctl test" in listing and secret not in listing
    ok(ctl("list", "--limit", "1", srv=srv, key=secret))
    r = ok(ctl("keys", "revoke", kid, srv=srv))
    assert "REVOKED" in r.out
    r = failed(ctl("list", "--limit", "1", srv=srv, key=secret), "UNAUTHENTICATED")
    assert "revoked" in r.err
    r = ctl("keys", "create", "--role", "wizard", srv=srv)
    assert r.rc == 2 and "--role" in r.err


def test_erase(srv):
    for score in (2, 9):
        submit_json(srv, "--survey", "erase", "--score", str(score), "--respondent", "person-7")
    submit_json(srv, "--survey", "erase", "--score", "5", "--respondent", "person-8")
    r = ok(ctl("erase", "person-7", srv=srv))
    assert r.out.startswith("erased 2 pieces of feedback"), r
    items = json.loads(ok(ctl("--json", "list", "--survey", "erase", srv=srv, role="read")).out)["items"]
    assert [i["respondent_id"] for i in items] == ["person-8"]
    assert ctl("erase", srv=srv).rc == 2


def test_settings_get_set(srv):
    r = ok(ctl("settings", "get", srv=srv))
    assert "timezone = " in r.out and "alert_rules.sla_ms = " in r.out
    r = ok(ctl("settings", "set", "min_sample=12", "alert_rules.keywords=refund,chargeback", srv=srv))
    d = json.loads(ok(ctl("--json", "settings", "get", srv=srv)).out)
    assert d["min_sample"] == 12 and d["alert_rules"]["keywords"] == ["refund", "chargeback"]
    failed(ctl("settings", "set", "timezone=Mars/Olympus", srv=srv), "INVALID_ARGUMENT")
    r = ctl("settings", "set", "min_sample=lots", srv=srv)
    assert r.rc == 2 and "min_sample" in r.err
    r = ctl("settings", "set", "colour=blue", srv=srv)
    assert r.rc == 2 and "colour" in r.err
    failed(ctl("settings", "get", srv=srv, role="read"), "PERMISSION_DENIED")
    ok(ctl("settings", "set", "min_sample=30", "alert_rules.keywords=refund,lawyer,never again", srv=srv))


# ---- alerts ----

def test_watch_resumes_from_state_file_then_ack_resolve(srv, tmp_path_ctl):
    state = os.path.join(tmp_path_ctl, "watch.state")
    c = srv.client("submit")
    # start after everything raised so far
    newest = c.call("feedback.v1.Alerts/ListAlerts", page_size=1, key=srv.keys["alerts"]).alerts
    start = newest[0].seq if newest else 0
    with open(state, "w") as f:
        f.write("%d\n" % start)
    first = c.call("feedback.v1.Ingest/SubmitResponse", survey_id="watch", score=1, comment="first")
    assert first.alert_ids
    r = ok(ctl("watch", "--max-alerts", "1", "--state-file", state, srv=srv, role="alerts"))
    assert first.alert_ids[0] in r.out and r.out.count("\n") == 1, r
    assert "\033[" not in r.out  # no colour when not on a terminal
    seq1 = int(open(state).read())
    assert seq1 > start
    second = c.call("feedback.v1.Ingest/SubmitResponse", survey_id="watch", score=0, comment="second")
    r = ok(ctl("--json", "watch", "--max-alerts", "1", "--state-file", state, srv=srv, role="alerts"))
    got = json.loads(r.out)
    assert got["id"] == second.alert_ids[0] and got["seq"] > seq1
    assert int(open(state).read()) == got["seq"]
    # alerts, ack, resolve
    r = ok(ctl("alerts", "--survey", "watch", srv=srv, role="alerts"))
    assert first.alert_ids[0] in r.out and second.alert_ids[0] in r.out
    r = ok(ctl("ack", first.alert_ids[0], "--note", "called them", srv=srv, role="alerts"))
    assert "ACKNOWLEDGED" in r.out
    r = ok(ctl("resolve", first.alert_ids[0], srv=srv, role="alerts"))
    assert "RESOLVED" in r.out
    page = json.loads(ok(ctl("--json", "alerts", "--survey", "watch", "--state", "resolved", srv=srv,
                             role="alerts")).out)
    assert [a["id"] for a in page["alerts"]] == [first.alert_ids[0]]
    failed(ctl("ack", "al_does_not_exist", srv=srv, role="alerts"), "NOT_FOUND")
    r = ctl("watch", "--max-alerts", "0", srv=srv, role="alerts")
    assert r.rc == 2


def test_watch_bad_state_says_what_to_do(srv, tmp_path_ctl):
    state = os.path.join(tmp_path_ctl, "far.state")
    with open(state, "w") as f:
        f.write("999999\n")
    r = failed(ctl("watch", "--max-alerts", "1", "--state-file", state, srv=srv, role="alerts"),
               "INVALID_ARGUMENT")
    assert "--after-seq" in r.err and state in r.err
    failed(ctl("watch", "--max-alerts", "1", "--state-file", state, srv=srv, role="read"), "PERMISSION_DENIED")


# ---- on a terminal: colours, sparkline, progress bar ----

def test_terminal_output(srv, tmp_path_ctl):
    c = srv.client("submit")
    reply = c.call("feedback.v1.Ingest/SubmitResponse", survey_id="tty", score=0, comment="awful, never again")
    seq = c.call("feedback.v1.Alerts/ListAlerts", survey_id="tty", key=srv.keys["alerts"]).alerts[0].seq
    args = ("watch", "--max-alerts", "1", "--after-seq", seq - 1, "--state-file", os.path.join(tmp_path_ctl, "st"))
    rc, out = ctl_on_terminal(*args, srv=srv, role="alerts")
    assert rc == 0 and reply.alert_ids[0] in out and "\033[" in out, out
    rc, out = ctl_on_terminal(*args, srv=srv, role="alerts", env={"NO_COLOR": "1"})
    assert rc == 0 and reply.alert_ids[0] in out and "\033[" not in out, out
    rc, out = ctl_on_terminal("alerts", "--survey", "tty", srv=srv, role="alerts")
    assert rc == 0 and reply.alert_ids[0] in out and "\033[" in out, out
    assert "\033[" not in ok(ctl("alerts", "--survey", "tty", srv=srv, role="alerts")).out
    rc, out = ctl_on_terminal("trend", "--survey", "tty", srv=srv, role="read")
    assert rc == 0 and "NPS " in out and "\u2581" in out, out  # the sparkline's lowest bar: NPS -100
    path = os.path.join(tmp_path_ctl, "many.csv")
    with open(path, "w") as f:
        f.write("survey_id,score\n" + "".join("tty-import,%d\n" % (i % 11) for i in range(450)))
    rc, out = ctl_on_terminal("import", path, srv=srv, role="submit")
    assert rc == 0 and "100%" in out and "450 rows" in out and "450 accepted" in out, out


# ---- watch keeps going across a server restart ----

def test_watch_reconnects_after_restart(server_factory, tmp_path_ctl):
    s = server_factory()
    state = os.path.join(tmp_path_ctl, "st")
    c = s.client("submit")
    first = c.call("feedback.v1.Ingest/SubmitResponse", survey_id="rc", score=1).alert_ids[0]
    e = conftest.server_env()
    cmd = [FEEDBACKCTL, "--addr", s.addr, "--key", s.keys["alerts"], "watch", "--max-alerts", "2",
           "--state-file", state]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    try:
        deadline = time.time() + RUN_TIMEOUT
        while time.time() < deadline and not (os.path.exists(state) and open(state).read().strip()):
            time.sleep(0.05)
        assert open(state).read().strip() == "1"
        s.restart()
        c = s.client("submit")
        second = c.call("feedback.v1.Ingest/SubmitResponse", survey_id="rc", score=2).alert_ids[0]
        out, err = p.communicate(timeout=RUN_TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 and first in lines[0] and second in lines[1], (out, err)
    assert "reconnecting" in err and open(state).read().strip() == "2"
    if conftest.ASAN:
        for pat in conftest.SANITIZER_PATTERNS:
            assert pat not in err, err

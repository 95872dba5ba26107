"""End-to-end: Admin.CreateKey / ListKeys / RevokeKey, roles, revocation at
once, and tenant isolation between two tenants of one server."""
import subprocess

import grpc

from conftest import FEEDBACKD, server_env
from fbclient import expect_error, to_dict

CREATE = "feedback.v1.Admin/CreateKey"
LISTK = "feedback.v1.Admin/ListKeys"
REVOKE = "feedback.v1.Admin/RevokeKey"
SUBMIT = "feedback.v1.Ingest/SubmitResponse"
LIST = "feedback.v1.Insights/ListFeedback"


def test_create_list_revoke(server):
    admin = server.client("admin")
    k = admin.call(CREATE, role="SUBMIT", label="kiosk 7")
    assert k.secret and k.id and k.label == "kiosk 7"
    assert to_dict(k)["role"] == "SUBMIT"
    assert k.secret.startswith(k.prefix) and len(k.prefix) < len(k.secret)
    assert not k.revoked and k.created_ms > 0

    listed = admin.call(LISTK).keys
    mine = [x for x in listed if x.id == k.id]
    assert len(mine) == 1 and mine[0].label == "kiosk 7"
    assert all(x.secret == "" for x in listed)        # the secret is shown once
    assert {to_dict(x)["role"] for x in listed} >= {"ADMIN", "SUBMIT", "READ", "ALERTS"}

    # the new key works at once, with its role only
    kiosk = server.client(key=k.secret)
    assert kiosk.call(SUBMIT, survey_id="s", score=9).id
    e = expect_error(kiosk.call, LIST)
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED

    r = admin.call(REVOKE, id=k.id)
    assert r.revoked and r.revoked_ms > 0 and r.secret == ""
    e = expect_error(kiosk.call, SUBMIT, survey_id="s", score=9)   # refused at once
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED
    assert k.secret not in e.details()
    assert [x.revoked for x in admin.call(LISTK).keys if x.id == k.id] == [True]
    again = admin.call(REVOKE, id=k.id)                               # idempotent
    assert again.revoked and again.revoked_ms == r.revoked_ms
    assert k.secret not in server.log()                               # never logged


def test_key_errors(server):
    admin = server.client("admin")
    e = expect_error(admin.call, CREATE, label="no role")
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and e.details().startswith("role:")
    e = expect_error(admin.call, REVOKE, id="")
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and e.details().startswith("id:")
    e = expect_error(admin.call, REVOKE, id="01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert e.code() == grpc.StatusCode.NOT_FOUND
    for role in ("submit", "read", "alerts"):
        c = server.client(role)
        for method, req in ((CREATE, {"role": "ADMIN"}), (LISTK, {}), (REVOKE, {"id": "x"})):
            e = expect_error(c.call, method, req)
            assert e.code() == grpc.StatusCode.PERMISSION_DENIED, (role, method)
    e = expect_error(server.client(key="fbk_not_a_real_key").call, LISTK)
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED
    e = expect_error(server.client(key="").call, LISTK)
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED


def test_revoking_own_admin_key(server):
    admin = server.client("admin")
    mine = [x for x in admin.call(LISTK).keys if server.keys["admin"].startswith(x.prefix)
            and to_dict(x)["role"] == "ADMIN"]
    assert len(mine) == 1
    admin.call(REVOKE, id=mine[0].id)
    e = expect_error(admin.call, LISTK)
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED


def test_tenants_are_isolated(server):
    r = subprocess.run([FEEDBACKD, "tenant", "create", "other", "--data-dir", server.data_dir],
                       capture_output=True, text=True, timeout=30, env=server_env())
    assert r.returncode == 0, r.stderr
    other = dict(line.split("\t") for line in r.stdout.splitlines())

    mine = server.client("submit").call(SUBMIT, survey_id="s", score=2, comment="mine",
                                        idempotency_key="shared-key").id
    theirs = server.client(key=other["submit"]).call(SUBMIT, survey_id="s", score=9,
                                                     idempotency_key="shared-key")
    assert not theirs.duplicate and theirs.id != mine     # keys are per tenant

    assert [i.id for i in server.client("read").call(LIST).items] == [mine]
    assert [i.id for i in server.client(key=other["read"]).call(LIST).items] == [theirs.id]

    # keys: each admin sees and revokes only its own tenant's keys
    my_keys = {x.id for x in server.client("admin").call(LISTK).keys}
    their_keys = {x.id for x in server.client(key=other["admin"]).call(LISTK).keys}
    assert my_keys and their_keys and not my_keys & their_keys
    e = expect_error(server.client(key=other["admin"]).call, REVOKE, id=sorted(my_keys)[0])
    assert e.code() == grpc.StatusCode.NOT_FOUND
    assert server.client("read").call(LIST).items      # still works

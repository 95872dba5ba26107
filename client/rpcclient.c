/* rpcclient.c — see rpcclient.h. Synchronous calls over a pluck queue.
 *
 * Why the C core and not a generated stub: gRPC ships no C stub generator;
 * the core API with protobuf-c messages is the same stack the server uses,
 * so the client exercises exactly what the server speaks. */
#include "rpcclient.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fbc_stream {
    fbc_conn *conn;
    grpc_call *call;
    grpc_metadata_array initial_md, trailing_md;
    int initial_md_pending;  /* its batch was started and not yet plucked */
    grpc_slice details;
    grpc_status_code status;
    int status_started;
};

static gpr_timespec deadline_after(int ms)
{
    if (ms <= 0) return gpr_inf_future(GPR_CLOCK_REALTIME);
    return gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

int fbc_connect(fbc_conn *c, const char *addr, const char *key, int timeout_ms)
{
    memset(c, 0, sizeof *c);
    grpc_init();
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    /* Keepalive pings on live calls only: a watch stream whose server or
     * network vanished (a laptop that slept) fails within ~40 s and watch
     * reconnects, instead of waiting forever on a dead TCP connection. The
     * server accepts pings this often (it allows one per 10 s). Reconnect
     * attempts back off to at most 10 s, so a restarted server is found soon. */
    grpc_arg args[] = {
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_TIME_MS, {.integer = 30000}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_TIMEOUT_MS, {.integer = 10000}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, {.integer = 0}},
        {GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, {.integer = 0}},
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, {.integer = 10000}},
    };
    grpc_channel_args ch = {sizeof args / sizeof args[0], args};
    c->channel = grpc_channel_create(addr, creds, &ch);
    grpc_channel_credentials_release(creds);
    if (!c->channel) return -1;
    c->cq = grpc_completion_queue_create_for_pluck(NULL);
    if (key && *key) snprintf(c->authorization, sizeof c->authorization, "Bearer %s", key);
    c->timeout_ms = timeout_ms;
    return 0;
}

void fbc_close(fbc_conn *c)
{
    if (c->cq) {
        grpc_completion_queue_shutdown(c->cq);
        grpc_completion_queue_destroy(c->cq);
    }
    if (c->channel) grpc_channel_destroy(c->channel);
    grpc_shutdown();
    memset(c, 0, sizeof *c);
}

/* Runs one batch and waits for it. Returns 1 if the batch succeeded. */
static int run_batch(fbc_stream *s, grpc_op *ops, size_t n)
{
    void *tag = ops;
    if (grpc_call_start_batch(s->call, ops, n, tag, NULL) != GRPC_CALL_OK) return 0;
    grpc_event ev = grpc_completion_queue_pluck(s->conn->cq, tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    return ev.type == GRPC_OP_COMPLETE && ev.success;
}

static grpc_byte_buffer *pack(const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    grpc_slice slice = grpc_slice_malloc(len);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(slice));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    return bb;
}

static ProtobufCMessage *unpack(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc)
{
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb)) return NULL;
    grpc_slice all = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(all),
                                                    GRPC_SLICE_START_PTR(all));
    grpc_slice_unref(all);
    return m;
}

fbc_stream *fbc_stream_open(fbc_conn *c, const char *method, const ProtobufCMessage *first_msg,
                            int close_send, int timeout_ms)
{
    fbc_stream *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->conn = c;
    grpc_slice m = grpc_slice_from_copied_string(method);
    s->call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq, m, NULL,
                                       deadline_after(timeout_ms), NULL);
    grpc_slice_unref(m);
    grpc_metadata_array_init(&s->initial_md);
    grpc_metadata_array_init(&s->trailing_md);

    grpc_metadata md;
    memset(&md, 0, sizeof md);
    md.key = grpc_slice_from_static_string("authorization");
    md.value = grpc_slice_from_copied_string(c->authorization);
    grpc_op ops[3];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[n].data.send_initial_metadata.count = c->authorization[0] ? 1 : 0;
    ops[n].data.send_initial_metadata.metadata = &md;
    n++;
    grpc_byte_buffer *bb = NULL;
    if (first_msg) {
        bb = pack(first_msg);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = bb;
        n++;
    }
    if (close_send) ops[n++].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    run_batch(s, ops, n); /* a failure shows in the final status */
    /* The core delivers no message to a client that has not asked for the
     * initial metadata. Ask in a batch of its own, not waited for here (a
     * client-streaming server may send it only with its reply); it is
     * plucked in fbc_stream_finish. */
    grpc_op md_op;
    memset(&md_op, 0, sizeof md_op);
    md_op.op = GRPC_OP_RECV_INITIAL_METADATA;
    md_op.data.recv_initial_metadata.recv_initial_metadata = &s->initial_md;
    s->initial_md_pending =
        grpc_call_start_batch(s->call, &md_op, 1, &s->initial_md, NULL) == GRPC_CALL_OK;
    grpc_slice_unref(md.value);
    if (bb) grpc_byte_buffer_destroy(bb);
    return s;
}

int fbc_stream_send(fbc_stream *s, const ProtobufCMessage *msg)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_MESSAGE;
    op.data.send_message.send_message = pack(msg);
    int ok = run_batch(s, &op, 1);
    grpc_byte_buffer_destroy(op.data.send_message.send_message);
    return ok ? 0 : -1;
}

int fbc_stream_close_send(fbc_stream *s)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    return run_batch(s, &op, 1) ? 0 : -1;
}

int fbc_stream_recv(fbc_stream *s, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg)
{
    grpc_byte_buffer *bb = NULL;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &bb;
    if (!run_batch(s, &op, 1)) return -1;
    if (!bb) return 0;
    *msg = unpack(bb, desc);
    grpc_byte_buffer_destroy(bb);
    return *msg ? 1 : -1;
}

void fbc_stream_cancel(fbc_stream *s)
{
    grpc_call_cancel(s->call, NULL);
}

grpc_status_code fbc_stream_finish(fbc_stream *s, fbc_status *st)
{
    /* Status alone: the core does not require initial metadata to be read. */
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    op.data.recv_status_on_client.trailing_metadata = &s->trailing_md;
    op.data.recv_status_on_client.status = &s->status;
    op.data.recv_status_on_client.status_details = &s->details;
    run_batch(s, &op, 1);
    if (s->initial_md_pending)
        grpc_completion_queue_pluck(s->conn->cq, &s->initial_md, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_status_code code = s->status;
    if (st) {
        st->code = code;
        size_t len = GRPC_SLICE_LENGTH(s->details);
        if (len >= sizeof st->message) len = sizeof st->message - 1;
        memcpy(st->message, GRPC_SLICE_START_PTR(s->details), len);
        st->message[len] = 0;
    }
    grpc_slice_unref(s->details);
    grpc_metadata_array_destroy(&s->initial_md);
    grpc_metadata_array_destroy(&s->trailing_md);
    grpc_call_unref(s->call);
    free(s);
    return code;
}

grpc_status_code fbc_unary(fbc_conn *c, const char *method, const ProtobufCMessage *req,
                           const ProtobufCMessageDescriptor *resp_desc,
                           ProtobufCMessage **resp, fbc_status *st)
{
    *resp = NULL;
    fbc_stream *s = fbc_stream_open(c, method, req, 1, c->timeout_ms);
    if (!s) {
        if (st) { st->code = GRPC_STATUS_INTERNAL; snprintf(st->message, sizeof st->message, "out of memory"); }
        return GRPC_STATUS_INTERNAL;
    }
    ProtobufCMessage *m = NULL;
    int got = fbc_stream_recv(s, resp_desc, &m);
    grpc_status_code code = fbc_stream_finish(s, st);
    if (code == GRPC_STATUS_OK && got == 1) {
        *resp = m;
    } else {
        if (m) protobuf_c_message_free_unpacked(m, NULL);
        if (code == GRPC_STATUS_OK && st) {
            st->code = code = GRPC_STATUS_INTERNAL;
            snprintf(st->message, sizeof st->message, "server sent no reply message");
        }
    }
    return code;
}

const char *fbc_status_name(grpc_status_code code)
{
    static const char *names[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    if ((int)code >= 0 && (size_t)code < sizeof names / sizeof names[0]) return names[code];
    return "UNKNOWN";
}

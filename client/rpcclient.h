/* rpcclient.h — feedbackctl's tiny gRPC client over the C core.
 *
 * One channel and one pluck completion queue per process; every call is
 * driven synchronously (start a batch, pluck its tag). That is all a
 * command-line tool needs, and it keeps each command a straight line of code.
 * Streams are the same thing with one batch per message.
 */
#ifndef FBC_RPCCLIENT_H
#define FBC_RPCCLIENT_H

#include <grpc/grpc.h>
#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>

typedef struct fbc_conn {
    grpc_channel *channel;
    grpc_completion_queue *cq;
    char authorization[512];   /* "Bearer <key>", empty when no key */
    int timeout_ms;            /* per unary call; streams: none */
} fbc_conn;

typedef struct fbc_status {
    grpc_status_code code;
    char message[1024];
} fbc_status;

typedef struct fbc_stream fbc_stream;

/* Connects lazily (the first call dials). Returns 0, or -1 on a bad address. */
int fbc_connect(fbc_conn *c, const char *addr, const char *key, int timeout_ms);
void fbc_close(fbc_conn *c);

/* One unary call. On OK *resp is the unpacked reply (free with
 * protobuf_c_message_free_unpacked). Returns the status code. */
grpc_status_code fbc_unary(fbc_conn *c, const char *method, const ProtobufCMessage *req,
                           const ProtobufCMessageDescriptor *resp_desc,
                           ProtobufCMessage **resp, fbc_status *st);

/* Streams. client_streaming: send many, close, then receive the reply with
 * fbc_stream_recv. Server streaming: first_msg is sent with the open. */
fbc_stream *fbc_stream_open(fbc_conn *c, const char *method, const ProtobufCMessage *first_msg,
                            int close_send, int timeout_ms);
/* 0 on success, -1 when the call is already over (see fbc_stream_finish). */
int fbc_stream_send(fbc_stream *s, const ProtobufCMessage *msg);
int fbc_stream_close_send(fbc_stream *s);
/* 1: *msg received; 0: end of stream; -1: failed. */
int fbc_stream_recv(fbc_stream *s, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg);
/* Cancels the call (e.g. a stream the caller has read enough of); the
 * final status from fbc_stream_finish is then CANCELLED. */
void fbc_stream_cancel(fbc_stream *s);
/* Waits for the final status, frees the stream, returns the code. */
grpc_status_code fbc_stream_finish(fbc_stream *s, fbc_status *st);

/* "INVALID_ARGUMENT" etc. */
const char *fbc_status_name(grpc_status_code code);

#endif

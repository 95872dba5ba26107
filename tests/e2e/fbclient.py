"""fbclient.py — a small gRPC client for the end-to-end tests.

Message classes are built at run time from the descriptor set that the build
writes (env FB_DESC, default build/feedback.desc), so the tests use Debian's
python3-grpcio and python3-protobuf with no generated code: a client we did
not write, speaking the real wire protocol to a real feedbackd.

    c = Client("127.0.0.1:50051", key="fbk_...")
    reply = c.call("feedback.v1.Ingest/SubmitResponse", survey_id="s1", score=9)
    for alert in c.stream("feedback.v1.Alerts/Subscribe", after_seq=0): ...
    summary = c.client_stream("feedback.v1.Ingest/Import", [item, item])
    c.msg("feedback.v1.ImportItem", response={"survey_id": "s", "score": 3})

Errors surface as grpc.RpcError (e.code(), e.details()); `expect_error`
returns that error and fails if the call succeeded.
"""
import os

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DESC_PATH = os.environ.get("FB_DESC", os.path.join(REPO, "build", "feedback.desc"))

_pool = None
_classes = {}


def pool():
    """The descriptor pool built from FB_DESC (loaded once)."""
    global _pool
    if _pool is None:
        fds = descriptor_pb2.FileDescriptorSet()
        with open(DESC_PATH, "rb") as f:
            fds.ParseFromString(f.read())
        p = descriptor_pool.DescriptorPool()
        for fd in fds.file:
            p.Add(fd)
        _pool = p
    return _pool


def message_class(full_name):
    """The Python class of a message type, e.g. 'feedback.v1.SubmitResponseRequest'."""
    cls = _classes.get(full_name)
    if cls is None:
        desc = pool().FindMessageTypeByName(full_name)
        if hasattr(message_factory, "GetMessageClass"):
            cls = message_factory.GetMessageClass(desc)
        else:
            cls = message_factory.MessageFactory(pool()).GetPrototype(desc)
        _classes[full_name] = cls
    return cls


def make(full_name, fields=None, **kw):
    """A message of type full_name from a dict and/or keyword fields (nested
    messages and maps as dicts, enums by name or number)."""
    cls = message_class(full_name)
    d = dict(fields or {})
    d.update(kw)
    m = cls()
    json_format.ParseDict(d, m, ignore_unknown_fields=False)
    return m


def to_dict(msg):
    """A message as a dict with the proto field names (defaults included)."""
    return json_format.MessageToDict(msg, preserving_proto_field_name=True,
                                     including_default_value_fields=True)


class Method:
    def __init__(self, full):  # "feedback.v1.Ingest/SubmitResponse"
        service, _, name = full.lstrip("/").partition("/")
        sd = pool().FindServiceByName(service)
        md = sd.methods_by_name[name]
        self.path = "/%s/%s" % (service, name)
        self.request = message_class(md.input_type.full_name)
        self.response = message_class(md.output_type.full_name)
        self.client_streaming = md.client_streaming if hasattr(md, "client_streaming") else False
        self.server_streaming = md.server_streaming if hasattr(md, "server_streaming") else False


class Client:
    """One channel to a server; every call carries `authorization: Bearer key`
    when a key is given (per client, or per call with key=...)."""

    def __init__(self, addr, key=None):
        self.addr = addr
        self.key = key
        self.channel = grpc.insecure_channel(addr)
        self._methods = {}

    def close(self):
        self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def method(self, full):
        m = self._methods.get(full)
        if m is None:
            m = self._methods[full] = Method(full)
        return m

    def msg(self, full_name, fields=None, **kw):
        return make(full_name, fields, **kw)

    def _metadata(self, key, metadata):
        md = list(metadata or [])
        key = self.key if key is None else key
        if key:
            md.append(("authorization", "Bearer " + key))
        return md

    def _request(self, m, request, fields):
        if request is None:
            return make(m.request.DESCRIPTOR.full_name, fields)
        if isinstance(request, dict):
            return make(m.request.DESCRIPTOR.full_name, request)
        return request

    def call(self, method, request=None, *, key=None, metadata=None, timeout=10, **fields):
        """A unary call; returns the reply message."""
        m = self.method(method)
        fn = self.channel.unary_unary(m.path, request_serializer=lambda x: x.SerializeToString(),
                                      response_deserializer=m.response.FromString)
        return fn(self._request(m, request, fields), metadata=self._metadata(key, metadata),
                  timeout=timeout)

    def future(self, method, request=None, *, key=None, metadata=None, timeout=10, **fields):
        """A unary call started asynchronously (cancellable); returns the future."""
        m = self.method(method)
        fn = self.channel.unary_unary(m.path, request_serializer=lambda x: x.SerializeToString(),
                                      response_deserializer=m.response.FromString)
        return fn.future(self._request(m, request, fields), metadata=self._metadata(key, metadata),
                         timeout=timeout)

    def stream(self, method, request=None, *, key=None, metadata=None, timeout=None, **fields):
        """A server-streaming call; returns the response iterator (also a
        grpc.Call: .cancel(), .code())."""
        m = self.method(method)
        fn = self.channel.unary_stream(m.path, request_serializer=lambda x: x.SerializeToString(),
                                       response_deserializer=m.response.FromString)
        return fn(self._request(m, request, fields), metadata=self._metadata(key, metadata),
                  timeout=timeout)

    def client_stream(self, method, requests, *, key=None, metadata=None, timeout=60):
        """A client-streaming call from an iterable of messages or dicts;
        returns the reply."""
        m = self.method(method)
        fn = self.channel.stream_unary(m.path, request_serializer=lambda x: x.SerializeToString(),
                                       response_deserializer=m.response.FromString)
        name = m.request.DESCRIPTOR.full_name
        msgs = (make(name, r) if isinstance(r, dict) else r for r in requests)
        return fn(msgs, metadata=self._metadata(key, metadata), timeout=timeout)

    def raw(self, path, payload=b"", *, key=None, metadata=None, timeout=10):
        """A unary call with raw bytes to any path (unknown methods, bad payloads)."""
        fn = self.channel.unary_unary(path, request_serializer=lambda x: x,
                                      response_deserializer=lambda x: x)
        return fn(payload, metadata=self._metadata(key, metadata), timeout=timeout)

    def health(self, service="", timeout=5):
        """Health/Check status name ('SERVING', 'NOT_SERVING', ...)."""
        r = self.call("grpc.health.v1.Health/Check", service=service, timeout=timeout)
        return message_class("grpc.health.v1.HealthCheckResponse").DESCRIPTOR \
            .fields_by_name["status"].enum_type.values_by_number[r.status].name


def expect_error(fn, *args, **kw):
    """Runs a call that must fail; returns the grpc.RpcError."""
    try:
        r = fn(*args, **kw)
        if hasattr(r, "__iter__") and not hasattr(r, "SerializeToString"):
            list(r)
    except grpc.RpcError as e:
        return e
    raise AssertionError("call succeeded but an error was expected")

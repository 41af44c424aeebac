"""A foreign gRPC client for the conformance test (packages/cli/src/foreign-clients.test.ts).

Runs on Debian's python3-grpcio and python3-protobuf, with no generated stubs: Debian's protoc
is too old for the contracts, so message classes come from the FileDescriptorSet that
`buf build` writes. Prints one JSON report, {"checks": [{"name", "ok", "detail"}]}, and exits 0
even when checks fail, so the test names each failed check.

Usage: python3 grpc_conformance.py CONFIG_JSON
  CONFIG_JSON: {"descriptors": path, "targets": {"ledger": "127.0.0.1:port", ..., "edge": ...},
                "adminToken": "...", "runId": "..."}
"""

import json
import sys
import threading
import time
import traceback

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

SERVICES = {
    "ledger": "qenex.ledger.v1.LedgerService",
    "auth": "qenex.auth.v1.AuthService",
    "risk": "qenex.risk.v1.RiskService",
    "payments": "qenex.payments.v1.PaymentsService",
}
REFLECTION = "grpc.reflection.v1.ServerReflection"
HEALTH = "grpc.health.v1.Health"
VIOLATIONS = "buf.validate.Violations"
# Longer than the 60 s these services once refused (issue 12, item 1).
LONG_DEADLINE_S = 300.0
SHORT_DEADLINE_S = 0.5
# No single call in this script should take longer, unless it is meant to.
CALL_TIMEOUT_S = 20.0


def build_pool(file_protos):
    """A fresh pool with every file, each added after its dependencies."""
    pool = descriptor_pool.DescriptorPool()
    by_name = {f.name: f for f in file_protos}
    added = set()

    def add(name):
        if name in added:
            return
        added.add(name)
        proto = by_name[name]
        for dependency in proto.dependency:
            add(dependency)
        pool.Add(proto)

    for name in by_name:
        add(name)
    return pool


def message_class(pool, full_name):
    return message_factory.MessageFactory(pool).GetPrototype(pool.FindMessageTypeByName(full_name))


class Contracts:
    def __init__(self, descriptor_set_path):
        fds = descriptor_pb2.FileDescriptorSet()
        with open(descriptor_set_path, "rb") as f:
            fds.ParseFromString(f.read())
        self.pool = build_pool(list(fds.file))

    def message(self, full_name):
        return message_class(self.pool, full_name)

    def method(self, channel, service, name):
        """A callable for service/name, typed by the method's descriptor."""
        method = self.pool.FindServiceByName(service).FindMethodByName(name)
        request = message_class(self.pool, method.input_type.full_name)
        response = message_class(self.pool, method.output_type.full_name)
        path = f"/{service}/{name}"
        if method.client_streaming and method.server_streaming:
            multi = channel.stream_stream
        elif method.server_streaming:
            multi = channel.unary_stream
        else:
            multi = channel.unary_unary
        call = multi(path, request_serializer=request.SerializeToString, response_deserializer=response.FromString)
        return call, request


class Report:
    def __init__(self):
        self.checks = []

    def check(self, name, fn):
        try:
            detail = fn()
            self.checks.append({"name": name, "ok": True, "detail": detail if detail is not None else ""})
        except Exception as e:  # noqa: BLE001 - every failure is reported, named by its check
            self.checks.append({"name": name, "ok": False, "detail": describe(e)})


def describe(e):
    if isinstance(e, grpc.RpcError):
        return f"{e.code().name}: {e.details()}"
    return "".join(traceback.format_exception_only(type(e), e)).strip()


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def bearer(token):
    return (("authorization", f"Bearer {token}"),)


def expect_status(call, code):
    try:
        call()
    except grpc.RpcError as e:
        expect(e.code() == code, f"expected {code.name}, got {e.code().name}: {e.details()}")
        return e
    raise AssertionError(f"expected {code.name}, the call succeeded")


class Target:
    def __init__(self, contracts, name, address):
        self.contracts = contracts
        self.name = name
        self.channel = grpc.insecure_channel(address)
        self.services = list(SERVICES.values()) if name == "edge" else [SERVICES[name]]

    def call(self, service, method):
        return self.contracts.method(self.channel, service, method)

    # --- health -------------------------------------------------------------------------------

    def health_check(self):
        check, Req = self.call(HEALTH, "Check")
        statuses = {}
        for service in ["", *self.services]:
            # A deadline past the 60 s these services once capped deadlines at.
            response = check(Req(service=service), timeout=LONG_DEADLINE_S)
            statuses[service or '""'] = response.DESCRIPTOR.fields_by_name["status"].enum_type.values_by_number[response.status].name
        expect(all(s == "SERVING" for s in statuses.values()), f"not all SERVING: {statuses}")
        return statuses

    def health_watch(self):
        watch, Req = self.call(HEALTH, "Watch")
        stream = watch(Req(service=self.services[0]), timeout=CALL_TIMEOUT_S)
        first = next(stream)
        stream.cancel()
        expect(first.status == 1, f"first status {first.status}, want SERVING (1)")
        return f"{self.services[0]}: SERVING"

    # --- deadlines ----------------------------------------------------------------------------

    def short_deadline_on_stream(self):
        # A watch stays open while nothing changes, so only the deadline can end it.
        watch, Req = self.call(HEALTH, "Watch")
        started = time.monotonic()
        stream = watch(Req(service=self.services[0]), timeout=SHORT_DEADLINE_S)

        def drain():
            for _ in stream:
                pass

        expect_status(drain, grpc.StatusCode.DEADLINE_EXCEEDED)
        elapsed_s = time.monotonic() - started
        # Sooner would mean the server refused the deadline rather than ran into it.
        expect(elapsed_s >= SHORT_DEADLINE_S * 0.9, f"DEADLINE_EXCEEDED after only {elapsed_s:.3f} s")
        return f"DEADLINE_EXCEEDED after {round(elapsed_s * 1000)} ms"

    def long_deadline_on_stream(self):
        watch, Req = self.call(HEALTH, "Watch")
        stream = watch(Req(service=self.services[0]), timeout=LONG_DEADLINE_S)
        first = next(stream)
        stream.cancel()
        expect(first.status == 1, f"first status {first.status}, want SERVING (1)")
        return f"{int(LONG_DEADLINE_S)} s deadline accepted"

    # --- reflection ---------------------------------------------------------------------------

    def reflect(self, *requests):
        info, Req = self.call(REFLECTION, "ServerReflectionInfo")
        responses = list(info(iter([Req(host="", **r) for r in requests]), timeout=CALL_TIMEOUT_S))
        for response in responses:
            if response.HasField("error_response"):
                raise AssertionError(f"reflection error {response.error_response.error_code}: {response.error_response.error_message}")
        return responses

    def reflection_list(self):
        [response] = self.reflect({"list_services": "*"})
        names = [s.name for s in response.list_services_response.service]
        missing = [s for s in [*self.services, HEALTH, REFLECTION] if s not in names]
        expect(not missing, f"missing {missing} in {names}")
        return names

    def reflection_pool(self, symbol):
        """A pool built only from what reflection answers: the symbol's file and its imports."""
        protos = {}
        pending = [{"file_containing_symbol": symbol}]
        while pending:
            for response in self.reflect(*pending):
                for raw in response.file_descriptor_response.file_descriptor_proto:
                    proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
                    protos[proto.name] = proto
            wanted = {d for p in protos.values() for d in p.dependency if d not in protos}
            pending = [{"file_by_filename": name} for name in sorted(wanted)]
        return build_pool(list(protos.values()))


def status_details(contracts, error):
    """google.rpc.Status from grpc-status-details-bin, its details decoded by type name."""
    trailers = dict(error.trailing_metadata() or ())
    raw = trailers.get("grpc-status-details-bin")
    expect(raw is not None, f"no grpc-status-details-bin in trailers {sorted(trailers)}")
    status = contracts.message("google.rpc.Status").FromString(raw)
    expect(status.code == error.code().value[0], f"status code {status.code} differs from grpc-status {error.code().value[0]}")
    return status


def violations_of(pool, status):
    Violations = message_class(pool, VIOLATIONS)
    found = [d for d in status.details if d.type_url.endswith("/" + VIOLATIONS)]
    expect(found, f"no {VIOLATIONS} among {[d.type_url for d in status.details]}")
    violations = Violations.FromString(found[0].value)
    expect(len(violations.violations) > 0, "Violations is empty")
    return [
        {"field": ".".join(e.field_name for e in v.field.elements), "rule": v.rule_id, "message": v.message}
        for v in violations.violations
    ]


def run(config):
    contracts = Contracts(config["descriptors"])
    run_id = config["runId"]
    report = Report()
    targets = {name: Target(contracts, name, address) for name, address in config["targets"].items()}
    admin = bearer(config["adminToken"])
    tokens = {}

    for name, target in targets.items():
        report.check(f"{name}: health Check (300 s deadline)", target.health_check)
        report.check(f"{name}: health Watch", target.health_watch)
        report.check(f"{name}: short deadline on a stream", target.short_deadline_on_stream)
        report.check(f"{name}: long deadline on a stream", target.long_deadline_on_stream)
        report.check(f"{name}: reflection lists services", target.reflection_list)

    def sign_in(target):
        def go():
            ledger_owner = f"py-{run_id}-{target.name}"
            create, CreateUser = target.call(SERVICES["auth"], "CreateUser")
            create(CreateUser(username=ledger_owner, password="correct horse battery", roles=["operator"]), metadata=admin, timeout=CALL_TIMEOUT_S)
            issue, IssueToken = target.call(SERVICES["auth"], "IssueToken")
            response = issue(IssueToken(username=ledger_owner, password="correct horse battery"), timeout=CALL_TIMEOUT_S)
            expect(response.token_type == "Bearer" and response.access_token, f"no bearer token: {response}")
            tokens[target.name] = response.access_token
            return f"signed in as {ledger_owner}, roles {list(response.roles)}"

        return go

    for name in ["auth", "edge"]:
        if name in targets:
            report.check(f"{name}: unary sign-in (CreateUser, IssueToken)", sign_in(targets[name]))
    token = tokens.get("auth") or tokens.get("edge")

    def ledger_unary_and_stream(target):
        def go():
            expect(token, "no token: sign-in failed")
            auth = bearer(tokens.get(target.name, token))
            create_account, CreateAccount = target.call(SERVICES["ledger"], "CreateAccount")
            source, destination = f"PY-{run_id}-{target.name}-A", f"PY-{run_id}-{target.name}-B"
            create_account(CreateAccount(account_id=source, account_type=1, currency="USD", initial_balance="100.00"), metadata=auth, timeout=CALL_TIMEOUT_S)
            create_account(CreateAccount(account_id=destination, account_type=1, currency="USD"), metadata=auth, timeout=CALL_TIMEOUT_S)
            # Opened before the transfer exists; from sequence 0 it also replays, so no race.
            watch, WatchTransfers = target.call(SERVICES["ledger"], "WatchTransfers")
            # The 300 s deadline a long-lived watch needs (issue 12, item 1); this check gives up sooner.
            stream = watch(WatchTransfers(account_id=destination), metadata=auth, timeout=LONG_DEADLINE_S)
            give_up = threading.Timer(CALL_TIMEOUT_S, stream.cancel)
            give_up.start()
            create_transfer, CreateTransfer = target.call(SERVICES["ledger"], "CreateTransfer")
            transfer_id = f"PY-{run_id}-{target.name}-T"
            created = create_transfer(
                CreateTransfer(transfer_id=transfer_id, source_account=source, destination_account=destination, amount="12.34", currency="USD"),
                metadata=auth,
                timeout=CALL_TIMEOUT_S,
            )
            expect(created.transfer.transfer_id == transfer_id, f"created {created.transfer.transfer_id}")
            try:
                for event in stream:
                    if event.transfer.transfer_id == transfer_id:
                        expect(event.transfer.amount.amount == "12.34", f"amount {event.transfer.amount}")
                        return f"created {source}, {destination}, {transfer_id}; watched it arrive under a {int(LONG_DEADLINE_S)} s deadline"
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.CANCELLED and not give_up.is_alive():
                    raise AssertionError(f"no event for {transfer_id} within {CALL_TIMEOUT_S} s") from e
                raise
            finally:
                give_up.cancel()
                stream.cancel()
            raise AssertionError("stream ended without the transfer")

        return go

    def risk_unary(target):
        def go():
            expect(token, "no token: sign-in failed")
            list_rules, ListRules = target.call(SERVICES["risk"], "ListRules")
            response = list_rules(ListRules(include_disabled=True), metadata=bearer(token), timeout=CALL_TIMEOUT_S)
            return f"{len(response.rules)} rules"

        return go

    def payments_unary(target):
        def go():
            expect(token, "no token: sign-in failed")
            list_payments, ListPayments = target.call(SERVICES["payments"], "ListPayments")
            response = list_payments(ListPayments(debtor_account=f"PY-{run_id}-none"), metadata=bearer(token), timeout=CALL_TIMEOUT_S)
            expect(len(response.payments) == 0, f"{len(response.payments)} payments for an unknown account")
            return "listed"

        return go

    # One request each service refuses by its contract, with the violated field.
    invalid = {
        "ledger": ("CreateAccount", {"account_id": "bad id!", "account_type": 1, "currency": "USD"}, "account_id"),
        "auth": ("IssueToken", {"username": "bad user!", "password": "x"}, "username"),
        "risk": ("ScoreTransaction", {"transaction_id": "t1", "account_id": "a1", "amount": "-1.00", "currency": "USD"}, "amount"),
        "payments": ("GetPayment", {"payment_id": ""}, "payment_id"),
    }

    def validation_details(target, service):
        def go():
            method, fields, field = invalid[service]
            call, Req = target.call(SERVICES[service], method)
            error = expect_status(lambda: call(Req(**fields), metadata=bearer(token or ""), timeout=CALL_TIMEOUT_S), grpc.StatusCode.INVALID_ARGUMENT)
            status = status_details(contracts, error)
            from_contracts = violations_of(contracts.pool, status)
            expect(any(v["field"] == field for v in from_contracts), f"no violation of {field}: {from_contracts}")
            # The same details decoded with only what the server's reflection tells.
            from_reflection = violations_of(target.reflection_pool(VIOLATIONS), status)
            expect(from_reflection == from_contracts, f"reflection decodes {from_reflection}, contracts {from_contracts}")
            return from_contracts

        return go

    for name, target in targets.items():
        services = list(SERVICES) if name == "edge" else [name]
        if "ledger" in services:
            report.check(f"{name}: unary ledger calls and a server stream (WatchTransfers)", ledger_unary_and_stream(target))
        if "risk" in services:
            report.check(f"{name}: unary risk call (ListRules)", risk_unary(target))
        if "payments" in services:
            report.check(f"{name}: unary payments call (ListPayments)", payments_unary(target))
        for service in services:
            report.check(f"{name}: {service} validation error details decode as {VIOLATIONS}", validation_details(target, service))

    for target in targets.values():
        target.channel.close()
    return report


def main():
    with open(sys.argv[1]) as f:
        config = json.load(f)
    report = run(config)
    print(json.dumps({"grpcio": grpc.__version__, "checks": report.checks}))


if __name__ == "__main__":
    main()

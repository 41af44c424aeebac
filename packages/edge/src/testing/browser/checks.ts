// What a browser app does through the edge, run inside Chromium by browser.test.ts: sign in,
// unary ledger calls, a server stream, errors and a deadline, each over Connect and gRPC-Web
// (connect-web on the browser's fetch). Bundled by esbuild at test time; every check reports
// what it saw, and the test, not this page, decides what is right.
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { AuthService } from "@qenex/gen/qenex/auth/v1/auth_pb.js";
import { AccountType, LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";

export type BrowserInput = {
  edgeUrl: string;
  username: string;
  password: string;
  /** Unique per run, so accounts do not collide in a shared database. */
  idPrefix: string;
  /** The deadline of the stream that must end in DEADLINE_EXCEEDED. */
  deadlineMs: number;
};

export const transportNames = ["connect", "grpc-web"] as const;
export type TransportName = (typeof transportNames)[number];

/** An RPC error as the browser app sees it. */
export type SeenError = { code: Code; codeName: string; rawMessage: string; detailTypes: string[] };
/** A check's observations, or the error that ended it. */
export type Seen<T> = { value: T } | { error: SeenError };

export type TransportChecks = {
  signIn: Seen<{ tokenType: string; roles: string[]; expiresInSeconds: number }>;
  unary: Seen<{ sourceAccount: string; destinationAccount: string; transferId: string; amount: string; currency: string }>;
  stream: Seen<{ transferIds: string[] }>;
  invalidArgument: Seen<"succeeded">;
  unauthenticated: Seen<"succeeded">;
  deadline: Seen<{ messages: number }>;
};

/** A stream the page waits on longer than this has hung: it fails instead of hanging the test. */
const streamTimeoutMs = 15_000;

export async function runBrowserChecks(input: BrowserInput): Promise<Record<TransportName, TransportChecks>> {
  return {
    connect: await checkTransport(input, "connect", (interceptors) => createConnectTransport({ baseUrl: input.edgeUrl, interceptors })),
    "grpc-web": await checkTransport(input, "grpc-web", (interceptors) => createGrpcWebTransport({ baseUrl: input.edgeUrl, interceptors })),
  };
}

async function checkTransport(
  input: BrowserInput,
  name: TransportName,
  transportWith: (interceptors: Interceptor[]) => Transport,
): Promise<TransportChecks> {
  let accessToken = "";
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("Authorization", `Bearer ${accessToken}`);
    return next(req);
  };
  const auth = createClient(AuthService, transportWith([]));
  const ledger = createClient(LedgerService, transportWith([bearer]));
  const ids = {
    source: `${input.idPrefix}-${name}-src`,
    destination: `${input.idPrefix}-${name}-dst`,
    quiet: `${input.idPrefix}-${name}-quiet`,
    transfer: `${input.idPrefix}-${name}-t1`,
  };

  const signIn = await seen(async () => {
    const token = await auth.issueToken({ username: input.username, password: input.password });
    accessToken = token.accessToken;
    return { tokenType: token.tokenType, roles: token.roles, expiresInSeconds: token.expiresIn };
  });

  const unary = await seen(async () => {
    await ledger.createAccount({ accountId: ids.source, accountType: AccountType.CHECKING, currency: "USD", initialBalance: "100.00" });
    await ledger.createAccount({ accountId: ids.destination, accountType: AccountType.CHECKING, currency: "USD" });
    const { transfer } = await ledger.createTransfer({
      transferId: ids.transfer,
      sourceAccount: ids.source,
      destinationAccount: ids.destination,
      amount: "12.34",
      currency: "USD",
      reference: `browser ${name}`,
    });
    return {
      sourceAccount: transfer?.sourceAccount ?? "",
      destinationAccount: transfer?.destinationAccount ?? "",
      transferId: transfer?.transferId ?? "",
      amount: transfer?.amount?.amount ?? "",
      currency: transfer?.amount?.currency ?? "",
    };
  });

  // The destination has exactly one transfer: the stream replays it, then the page stops
  // listening (the stream itself stays open for new transfers).
  const stream = await seen(async () => {
    const listening = new AbortController();
    const transferIds: string[] = [];
    for await (const message of ledger.watchTransfers(
      { accountId: ids.destination },
      { signal: listening.signal, timeoutMs: streamTimeoutMs },
    )) {
      transferIds.push(message.transfer?.transferId ?? "");
      listening.abort();
      break;
    }
    return { transferIds };
  });

  // "usd" breaks the contract's currency pattern: the ledger's validation answers.
  const invalidArgument = await seen(async () => {
    await ledger.createTransfer({ sourceAccount: ids.source, destinationAccount: ids.destination, amount: "1.00", currency: "usd" });
    return "succeeded" as const;
  });

  const unauthenticated = await seen(async () => {
    const stranger = createClient(
      LedgerService,
      transportWith([
        (next) => (req) => {
          req.header.set("Authorization", "Bearer not-a-token");
          return next(req);
        },
      ]),
    );
    await stranger.getAccount({ accountId: ids.source });
    return "succeeded" as const;
  });

  // An account nobody moves money on: its stream stays silent until the deadline ends it.
  const deadline = await seen(async () => {
    await ledger.createAccount({ accountId: ids.quiet, accountType: AccountType.CHECKING, currency: "USD" });
    let messages = 0;
    for await (const _ of ledger.watchTransfers({ accountId: ids.quiet }, { timeoutMs: input.deadlineMs })) messages++;
    return { messages };
  });

  return { signIn, unary, stream, invalidArgument, unauthenticated, deadline };
}

async function seen<T>(check: () => Promise<T>): Promise<Seen<T>> {
  try {
    return { value: await check() };
  } catch (error) {
    return { error: seenError(error) };
  }
}

function seenError(error: unknown): SeenError {
  const e = ConnectError.from(error);
  return {
    code: e.code,
    codeName: Code[e.code],
    rawMessage: e.rawMessage,
    detailTypes: e.details.map((d) => ("type" in d ? d.type : d.desc.typeName)),
  };
}

/** A single Connect sign-in: what a page from an origin the edge does not allow gets. */
export async function signInOnce(input: Pick<BrowserInput, "edgeUrl" | "username" | "password">): Promise<Seen<{ tokenType: string }>> {
  const auth = createClient(AuthService, createConnectTransport({ baseUrl: input.edgeUrl }));
  return seen(async () => ({ tokenType: (await auth.issueToken({ username: input.username, password: input.password })).tokenType }));
}

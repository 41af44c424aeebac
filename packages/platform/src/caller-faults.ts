// Requests connect-es cannot decode are answered INTERNAL ("parse binary: premature EOF"),
// as if the server were at fault; they are the caller's: this rewrites them to
// INVALID_ARGUMENT in each protocol's own error shape, with the problem named.
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";

const internal = 13;
const invalidArgument = 3;

/** The messages connect-es gives a request it could not decode, as the caller sees them. */
export function describeCallerFault(message: string): string | undefined {
  if (message.startsWith("parse binary: ")) return `request is not a valid protobuf message: ${message.slice("parse binary: ".length)}`;
  if (message === "received compressed envelope, but do not know how to decompress") {
    return "request message has the compressed flag set, but the request names no compression (grpc-encoding or connect-content-encoding)";
  }
  return undefined;
}

export async function callerFaults(response: UniversalServerResponse): Promise<UniversalServerResponse> {
  const contentType = response.header?.get("content-type") ?? "";
  const body = response.body;
  if (body === undefined || !(Symbol.asyncIterator in Object(body))) return response;
  const chunks = body as AsyncIterable<Uint8Array>;
  if (contentType.startsWith("application/grpc-web")) return { ...response, body: mapChunks(chunks, rewriteGrpcWebTrailer) };
  if (contentType.startsWith("application/grpc")) return { ...response, body: fixTrailerAfter(chunks, response) };
  if (contentType.startsWith("application/connect+")) return { ...response, body: mapChunks(chunks, rewriteConnectEndStream) };
  if (response.status === 500 && contentType.startsWith("application/json") && !response.header?.has("content-encoding")) {
    return rewriteConnectUnary(response, chunks);
  }
  return response;
}

async function* mapChunks(chunks: AsyncIterable<Uint8Array>, rewrite: (chunk: Uint8Array) => Uint8Array): AsyncIterable<Uint8Array> {
  for await (const chunk of chunks) yield rewrite(chunk);
}

async function* fixTrailerAfter(chunks: AsyncIterable<Uint8Array>, response: UniversalServerResponse): AsyncIterable<Uint8Array> {
  yield* chunks;
  // connect-node writes the trailer after the body, so it can still change here.
  const trailer = response.trailer;
  if (!trailer || trailer.get("grpc-status") !== String(internal)) return;
  const described = describeCallerFault(decodeURIComponent(trailer.get("grpc-message") ?? ""));
  if (described === undefined) return;
  trailer.set("grpc-status", String(invalidArgument));
  trailer.set("grpc-message", encodeURIComponent(described));
}

/** A gRPC-Web trailer is an envelope with flag 0x80 holding "name: value\r\n" lines. */
function rewriteGrpcWebTrailer(chunk: Uint8Array): Uint8Array {
  if (chunk.length < 5 || ((chunk[0] ?? 0) & 0x80) === 0) return chunk;
  const text = new TextDecoder().decode(chunk.subarray(5));
  const lines = text.split("\r\n");
  const status = lines.find((line) => line.toLowerCase().startsWith("grpc-status:"));
  const messageLine = lines.find((line) => line.toLowerCase().startsWith("grpc-message:"));
  if (status?.split(":")[1]?.trim() !== String(internal) || messageLine === undefined) return chunk;
  const described = describeCallerFault(decodeURIComponent(messageLine.slice(messageLine.indexOf(":") + 1).trim()));
  if (described === undefined) return chunk;
  const rewritten = lines
    .map((line) => {
      if (line === status) return `grpc-status: ${invalidArgument}`;
      if (line === messageLine) return `grpc-message: ${encodeURIComponent(described)}`;
      return line;
    })
    .join("\r\n");
  return envelope(chunk[0] ?? 0x80, new TextEncoder().encode(rewritten));
}

/** A Connect stream ends with an envelope flagged 0x02 holding {"error": {code, message}}. */
function rewriteConnectEndStream(chunk: Uint8Array): Uint8Array {
  if (chunk.length < 5 || ((chunk[0] ?? 0) & 0x02) === 0) return chunk;
  const end = parseJson(chunk.subarray(5)) as { error?: { code?: string; message?: string } } | undefined;
  const described = end?.error?.code === "internal" ? describeCallerFault(end.error.message ?? "") : undefined;
  if (end?.error === undefined || described === undefined) return chunk;
  end.error = { ...end.error, code: "invalid_argument", message: described };
  return envelope(chunk[0] ?? 0x02, new TextEncoder().encode(JSON.stringify(end)));
}

async function rewriteConnectUnary(response: UniversalServerResponse, chunks: AsyncIterable<Uint8Array>): Promise<UniversalServerResponse> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  const bytes = Buffer.concat(parts);
  const error = parseJson(bytes) as { code?: string; message?: string } | undefined;
  const described = error?.code === "internal" ? describeCallerFault(error.message ?? "") : undefined;
  if (described === undefined) return { ...response, body: once(bytes) };
  const rewritten = new TextEncoder().encode(JSON.stringify({ ...error, code: "invalid_argument", message: described }));
  response.header?.set("content-length", String(rewritten.byteLength));
  return { ...response, status: 400, body: once(rewritten) };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

function envelope(flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.byteLength);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.byteLength);
  out.set(data, 5);
  return out;
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

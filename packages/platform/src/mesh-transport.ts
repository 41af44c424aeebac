// How one QENEX process calls another: the Connect protocol with binary protobuf over HTTP/2.
// Every service also serves gRPC, for foreign clients; between our own processes Connect is
// the cheaper of the two in connect-es: a unary Connect call is one request and one response
// body, where a gRPC unary call runs through the streaming machinery (enveloped frames,
// trailers, async-iterable pipes) at both ends. Measured on CreateTransfer at 64 calls in
// flight (bench/throughput.ts, its "Node client" rows): about a third less CPU in the server
// and in the client.
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";

export type MeshTransportOptions = {
  baseUrl: string;
  interceptors?: Interceptor[];
  readMaxBytes?: number;
  writeMaxBytes?: number;
};

export function createMeshTransport(options: MeshTransportOptions): Transport {
  return createConnectTransport({ ...options, httpVersion: "2", useBinaryFormat: true });
}

// The edge's listener: HTTP/1.1 (curl, browsers) and cleartext HTTP/2 (gRPC clients) on one
// port, as the services serve them.
import * as http from "node:http";
import * as http2 from "node:http2";
import type * as net from "node:net";
import { sniffingServer } from "@qenex/platform";
import { createEdgeHandler, type EdgeOptions } from "./edge.js";

export type EdgeServer = { url: string; port: number; close(): Promise<void> };

export async function serveEdge(options: EdgeOptions & { host: string; port: number }): Promise<EdgeServer> {
  const edge = createEdgeHandler(options);
  const h2 = http2.createServer({}, edge.handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
  const h1 = http.createServer(edge.handler);
  const listener = sniffingServer(h2, h1);
  const sockets = new Set<net.Socket>();
  listener.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(options.port, options.host, () => resolve());
  });
  const port = (listener.address() as net.AddressInfo).port;
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    async close() {
      listener.close();
      h1.closeIdleConnections();
      edge.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

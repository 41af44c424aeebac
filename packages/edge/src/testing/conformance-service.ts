// The conformance service the edge's tests put behind it: it echoes what it receives, so a
// test can see exactly which message the edge built from a REST request.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BookSchema,
  ConformanceService,
  type CountResponse,
  CountResponseSchema,
  ThingSchema,
} from "@qenex/gen/qenex/conformance/v1/conformance_pb.js";
import { binding, type ServiceBinding } from "@qenex/platform";

export function conformanceBinding(): ServiceBinding {
  return binding(ConformanceService, {
    echo: (request) => ({ request }),
    getBook: (request) => ({ book: create(BookSchema, { name: request.name, title: `title of ${request.name}` }) }),
    updateBook: (request) => {
      if (!request.book) throw new ConnectError("book is required", Code.InvalidArgument);
      return { book: request.book };
    },
    putThing: (request) => ({ thing: create(ThingSchema, { id: request.id, name: request.name, size: request.size }) }),
    deleteThing: (request) => ({ thing: create(ThingSchema, { id: request.id }) }),
    cancelThing: (request) => ({ thing: create(ThingSchema, { id: request.id }), reason: request.reason }),
    getThingName: (request) => ({ id: request.id, name: `name of ${request.id}` }),
    searchThings: (request) => ({
      things: Array.from({ length: Math.min(request.limit, 10) }, (_, i) => create(ThingSchema, { id: `${request.query}-${i}` })),
    }),
    getFile: (request) => ({ path: request.path }),
    async *count(request): AsyncGenerator<CountResponse> {
      for (let n = 1; n <= Math.min(request.to, 1000); n++) {
        if (request.failAfter !== 0 && n > request.failAfter) throw new ConnectError("counting failed on purpose", Code.DataLoss);
        yield create(CountResponseSchema, { n });
      }
    },
    fail: (request) => {
      throw new ConnectError(request.message || `failing with code ${request.code}`, request.code as Code);
    },
  });
}

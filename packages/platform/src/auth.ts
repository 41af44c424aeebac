// Bearer-token authentication (HS256 JWTs verified with jose) and the principal it yields.
import { Code, ConnectError, createContextKey, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { jwtVerify, SignJWT } from "jose";

export const roles = ["admin", "operator", "auditor", "customer", "service"] as const;
export type Role = (typeof roles)[number];

export type Principal = { subject: string; roles: readonly Role[] };

export const principalKey = createContextKey<Principal | undefined>(undefined, {
  description: "the authenticated caller",
});

const issuer = "qenex";
const audience = "qenex-mesh";
/** Longest lifetime a token may be issued with. */
export const tokenTtlSecondsMax = 7 * 24 * 3600;
/** Longest Authorization header read, so a huge header cannot cost a verify. */
const authorizationBytesMax = 8192;

export type Auth = {
  verify(token: string): Promise<Principal>;
  issue(principal: Principal, ttlSeconds: number): Promise<string>;
};

/** Verified tokens remembered per process, and for how long at most. */
const verifiedTokensMax = 10_000;
const verifiedTtlMsMax = 60_000;

export function createAuth(secret: string): Auth {
  // Imported once: handing jose raw bytes would import the key again on every call.
  const key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
  // Clients reuse a token for many calls, and WebCrypto verification is the costliest step
  // of a small RPC: a verified token is remembered until it expires (at most a minute).
  const verified = new Map<string, { principal: Principal; untilMs: number }>();
  const verifyUncached = async (token: string) => {
    const { payload } = await jwtVerify(token, await key, { issuer, audience, algorithms: ["HS256"] });
    const claimed = Array.isArray(payload.roles) ? payload.roles : [];
    const granted = claimed.filter((role): role is Role => roles.includes(role as Role));
    if (typeof payload.sub !== "string" || payload.sub === "") throw new Error("token has no subject");
    if (typeof payload.exp !== "number") throw new Error("token has no expiry");
    return { principal: { subject: payload.sub, roles: granted }, expMs: payload.exp * 1000 };
  };
  return {
    async verify(token) {
      const hit = verified.get(token);
      if (hit && hit.untilMs > Date.now()) return hit.principal;
      const fresh = await verifyUncached(token);
      if (verified.size >= verifiedTokensMax) verified.delete(verified.keys().next().value as string);
      verified.set(token, { principal: fresh.principal, untilMs: Math.min(fresh.expMs, Date.now() + verifiedTtlMsMax) });
      return fresh.principal;
    },

    async issue(principal, ttlSeconds) {
      if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > tokenTtlSecondsMax) {
        throw new RangeError(`token lifetime must be 1 to ${tokenTtlSecondsMax} seconds`);
      }
      return new SignJWT({ roles: principal.roles })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(principal.subject)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(await key);
    },
  };
}

/** Service tokens are minted for an hour and renewed five minutes before they expire. */
const serviceTokenTtlSeconds = 3600;
const serviceTokenRenewBeforeMs = 300_000;

/**
 * The bearer token one service presents to another (`service` role), minted when first needed
 * and again when it nears expiry. A failed mint is not remembered: the next call tries again.
 */
export function serviceTokens(auth: Auth, subject: string): () => Promise<string> {
  let token: { value: Promise<string>; renewAtMs: number } | undefined;
  return () => {
    if (!token || Date.now() >= token.renewAtMs) {
      const value = auth.issue({ subject, roles: ["service"] }, serviceTokenTtlSeconds);
      const minted = { value, renewAtMs: Date.now() + serviceTokenTtlSeconds * 1000 - serviceTokenRenewBeforeMs };
      token = minted;
      value.catch(() => {
        if (token === minted) token = undefined;
      });
    }
    return token.value;
  };
}

/** An interceptor that sends `token()` as the bearer token, unless the call carries its own. */
export function bearerInterceptor(token: () => Promise<string>): Interceptor {
  return (next) => async (req) => {
    if (!req.header.has("authorization")) req.header.set("authorization", `Bearer ${await token()}`);
    return next(req);
  };
}

/** Health and reflection stay open, as Kubernetes probes, grpcurl and buf curl expect. */
function isPublic(typeName: string): boolean {
  return typeName.startsWith("grpc.health.") || typeName.startsWith("grpc.reflection.");
}

/**
 * `publicProcedures` ("/pkg.Service/Method") need no bearer token: signing in is how a
 * caller gets one.
 */
export function createAuthInterceptor(auth: Auth, publicProcedures: ReadonlySet<string> = new Set()): Interceptor {
  return (next) => async (req) => {
    if (isPublic(req.service.typeName) || publicProcedures.has(`/${req.service.typeName}/${req.method.name}`)) {
      return next(req);
    }
    const header = req.header.get("authorization") ?? "";
    if (header.length > authorizationBytesMax) {
      throw new ConnectError("authorization header too long", Code.Unauthenticated);
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      throw new ConnectError("missing bearer token (Authorization: Bearer <jwt>)", Code.Unauthenticated);
    }
    let principal: Principal;
    try {
      principal = await auth.verify(match[1]);
    } catch {
      throw new ConnectError("invalid or expired bearer token", Code.Unauthenticated);
    }
    req.contextValues.set(principalKey, principal);
    return next(req);
  };
}

/** The caller, or PermissionDenied unless it holds one of `allowed`. */
export function requireRole(ctx: HandlerContext, allowed: readonly Role[]): Principal {
  const principal = ctx.values.get(principalKey);
  if (!principal) throw new ConnectError("no authenticated caller", Code.Unauthenticated);
  if (!principal.roles.some((role) => allowed.includes(role))) {
    throw new ConnectError(`${principal.subject} needs one of the roles ${allowed.join(", ")}`, Code.PermissionDenied);
  }
  return principal;
}

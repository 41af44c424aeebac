// How a paymentId travels in messages whose id fields are short (ISO Max35Text, MT 16x) and
// whose character sets (SEPA Latin, SWIFT X) lack '_': a documented, reversible encoding.
import { createHash } from "node:crypto";

/** Letters, digits, '_' and '-', at most 40 characters (PaymentRecord.paymentId). */
export const paymentIdPattern = /^[A-Za-z0-9_-]{1,40}$/;
/** ISO 20022 Max35Text. */
export const isoIdCharsMax = 35;
/** Characters of a long id kept in TxId before the digest; the rest goes to InstrId. */
const headChars = 23;
const digestChars = 11;

export function assertPaymentId(paymentId: string): void {
  if (!paymentIdPattern.test(paymentId)) {
    throw new Error(`paymentId "${paymentId}" is not 1-40 characters of letters, digits, '_' and '-'`);
  }
}

/** Lower-case hex SHA-256 of the text. */
export function digestHex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** '_' is outside the SEPA and SWIFT X sets; '.' is in both and never in a paymentId. */
function encode(paymentId: string): string {
  return paymentId.replaceAll("_", ".");
}

function decode(text: string): string {
  return text.replaceAll(".", "_");
}

export interface TransactionIds {
  /** PmtId/InstrId (and OrgnlInstrId in replies). */
  readonly instructionId: string;
  /** PmtId/TxId (and OrgnlTxId in replies); also the pacs.008 MsgId: unique per payment. */
  readonly transactionId: string;
}

/**
 * The pair of ISO ids that carries a paymentId. Up to 35 characters: both are the encoded id.
 * Longer: TxId is the first 23 encoded characters + "+" + 11 hex of SHA-256(paymentId) (35,
 * unique), and InstrId is "+" + the remaining characters, so the two together give the id back.
 */
export function transactionIds(paymentId: string): TransactionIds {
  assertPaymentId(paymentId);
  const encoded = encode(paymentId);
  if (encoded.length <= isoIdCharsMax) return { instructionId: encoded, transactionId: encoded };
  return {
    instructionId: `+${encoded.slice(headChars)}`,
    transactionId: `${encoded.slice(0, headChars)}+${digestHex(paymentId).slice(0, digestChars)}`,
  };
}

/** The paymentId back from the pair transactionIds() wrote, or undefined when they are not such a pair. */
export function paymentIdFrom(instructionId: string | undefined, transactionId: string | undefined): string | undefined {
  if (transactionId === undefined) return undefined;
  const plus = transactionId.indexOf("+");
  let paymentId: string;
  if (plus < 0) paymentId = decode(transactionId);
  else {
    if (instructionId === undefined || !instructionId.startsWith("+")) return undefined;
    paymentId = decode(transactionId.slice(0, plus) + instructionId.slice(1));
  }
  if (!paymentIdPattern.test(paymentId)) return undefined;
  const again = transactionIds(paymentId);
  return again.transactionId === transactionId && (plus < 0 || again.instructionId === instructionId) ? paymentId : undefined;
}

/** A 16-character upper-case reference (MT103 :20:, Fedwire {3320}) derived from the paymentId. */
export function shortReference(paymentId: string): string {
  return digestHex(`ref:${paymentId}`).slice(0, 16).toUpperCase();
}

/** A message id of at most 35 characters: a prefix (with ':', never in a paymentId) and a digest. */
export function derivedMessageId(prefix: string, key: string): string {
  return `${prefix}:${digestHex(`${prefix}:${key}`)}`.slice(0, isoIdCharsMax);
}

/** ISO date-time in UTC to the second, e.g. 2026-03-02T10:15:30Z. */
export function isoSeconds(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

export function isoDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** YYMMDD and HHMM in UTC (NACHA headers). */
export function yymmdd(at: Date): string {
  return at.toISOString().slice(2, 10).replaceAll("-", "");
}

export function hhmm(at: Date): string {
  return at.toISOString().slice(11, 16).replace(":", "");
}

// Render and parse rates of the payment message formats (packages/payments/src/formats): ISO 20022
// pacs.008 / pacs.002 / pacs.004 / pain.001, MT103, NACHA (1 and 1,000 entries) and Fedwire tags,
// each next to JSON.stringify / JSON.parse of the same typed model, the cheapest serialisation there is.
import { deepStrictEqual } from "node:assert/strict";
import * as os from "node:os";
import { parseArgs } from "node:util";
// bench/package.json does not depend on @qenex/payments, so the source is imported by path.
import { sepaPacs008 } from "../packages/payments/src/formats/iso20022/fixtures.js";
import * as nachaFixtures from "../packages/payments/src/formats/nacha/fixtures.js";
import { fedwire, iso20022, mt103, nacha } from "../packages/payments/src/index.js";

/** One format under test: a typed model and the library's two directions for it. */
interface Codec<M> {
  name: string;
  /** Payments (or statuses, returns) one message carries; messages/s × this = entries/s. */
  entriesPerMessage: number;
  model: M;
  render: (model: M) => string;
  parse: (text: string) => M;
  /** The baseline; JSON.stringify / JSON.parse as they are unless the model holds what JSON cannot (bigint). */
  toJson: (model: M) => string;
  fromJson: (json: string) => M;
}

interface Timing {
  iterations: number;
  messagesPerSecond: number;
  p50Us: number;
  p99Us: number;
}

interface Row {
  format: string;
  operation: string;
  entriesPerMessage: number;
  chars: number;
  timing: Timing;
  /** How many times the JSON baseline's rate this row's is slower; undefined on the baseline rows. */
  costVsJson: number | undefined;
}

type Settings = { durationMs: number; warmupMs: number };

const secondsMax = 60;
// A row never keeps more per-iteration timings than this (8 bytes each).
const iterationsMax = 2_000_000;
// Even a slow row gets enough samples for a p99 that is not its maximum.
const iterationsMin = 200;
const nachaEntriesLarge = 1000;

const uetr = "8a562c67-ca16-48ba-b074-65581be6f011";
const pacs008Id = "QNX-20261127-000042";

// A CBPR+-shaped customer credit transfer: one transaction, structured addresses, remittance.
const pacs008: iso20022.Pacs008 = {
  messageId: pacs008Id,
  createdAt: "2026-11-27T09:30:00+01:00",
  settlementMethod: "INDA",
  transactions: [
    {
      instructionId: "QNX-INSTR-000042",
      endToEndId: "INV-2026-0042",
      transactionId: "QNX-TX-000042",
      uetr,
      interbankSettlementAmount: { currency: "EUR", amount: "12500.00" },
      interbankSettlementDate: "2026-11-27",
      instructedAmount: { currency: "EUR", amount: "12500.00" },
      chargeBearer: "SHAR",
      instructingAgent: { bicfi: "DEUTDEFFXXX" },
      instructedAgent: { bicfi: "NWBKGB2LXXX" },
      debtor: {
        name: "ACME Maschinenbau GmbH",
        postalAddress: { streetName: "Hauptstrasse", buildingNumber: "1", postCode: "10115", townName: "Berlin", country: "DE" },
      },
      debtorAccount: { kind: "iban", iban: "DE89370400440532013000" },
      debtorAgent: { bicfi: "DEUTDEFFXXX" },
      creditorAgent: { bicfi: "NWBKGB2LXXX" },
      creditor: {
        name: "Bolt Components Ltd",
        postalAddress: { streetName: "High Street", buildingNumber: "12", postCode: "EC1A 1BB", townName: "London", country: "GB" },
      },
      creditorAccount: { kind: "iban", iban: "GB82WEST12345698765432" },
      remittanceInformation: ["Invoice 4711 of 2026-11-01, order PO 88-1"],
    },
  ],
};

const originalGroup = { messageId: pacs008Id, messageNameId: "pacs.008.001.08" } as const;

// The creditor's bank rejects that transfer: account closed.
const pacs002: iso20022.Pacs002 = {
  messageId: "QNX-STS-000042",
  createdAt: "2026-11-27T09:31:05+00:00",
  transactions: [
    {
      statusId: "STS-000042",
      originalGroup,
      originalInstructionId: "QNX-INSTR-000042",
      originalEndToEndId: "INV-2026-0042",
      originalTransactionId: "QNX-TX-000042",
      originalUetr: uetr,
      status: "RJCT",
      statusReasons: [{ reason: { code: "AC04" }, additionalInformation: ["Account closed on 2026-11-20"] }],
      instructingAgent: { bicfi: "NWBKGB2LXXX" },
      instructedAgent: { bicfi: "DEUTDEFFXXX" },
      originalInterbankSettlementAmount: { currency: "EUR", amount: "12500.00" },
    },
  ],
};

// The same transfer, settled and then returned.
const pacs004: iso20022.Pacs004 = {
  messageId: "QNX-RTR-000042",
  createdAt: "2026-11-28T08:00:00+00:00",
  settlementMethod: "INDA",
  transactions: [
    {
      returnId: "RTR-000042",
      originalGroup,
      originalInstructionId: "QNX-INSTR-000042",
      originalEndToEndId: "INV-2026-0042",
      originalTransactionId: "QNX-TX-000042",
      originalUetr: uetr,
      originalInterbankSettlementAmount: { currency: "EUR", amount: "12500.00" },
      returnedInterbankSettlementAmount: { currency: "EUR", amount: "12500.00" },
      interbankSettlementDate: "2026-11-28",
      chargeBearer: "SHAR",
      instructingAgent: { bicfi: "NWBKGB2LXXX" },
      instructedAgent: { bicfi: "DEUTDEFFXXX" },
      returnReasons: [{ reason: { code: "AC04" }, additionalInformation: ["Closed 2026-11-20"] }],
    },
  ],
};

// The debtor's instruction to its bank that starts it all.
const pain001: iso20022.Pain001 = {
  messageId: "ACME-PAIN-20261127-01",
  createdAt: "2026-11-26T16:00:00+01:00",
  initiatingParty: { name: "ACME Maschinenbau GmbH" },
  paymentInstructions: [
    {
      paymentInformationId: "ACME-PMT-20261127-01",
      paymentMethod: "TRF",
      batchBooking: false,
      requestedExecutionDate: "2026-11-27",
      debtor: { name: "ACME Maschinenbau GmbH", postalAddress: { townName: "Berlin", country: "DE" } },
      debtorAccount: { kind: "iban", iban: "DE89370400440532013000" },
      debtorAgent: { bicfi: "DEUTDEFFXXX" },
      chargeBearer: "SHAR",
      transactions: [
        {
          instructionId: "ACME-I-0042",
          endToEndId: "INV-2026-0042",
          uetr,
          instructedAmount: { currency: "EUR", amount: "12500.00" },
          creditorAgent: { bicfi: "NWBKGB2LXXX" },
          creditor: { name: "Bolt Components Ltd", postalAddress: { townName: "London", country: "GB" } },
          creditorAccount: { kind: "iban", iban: "GB82WEST12345698765432" },
          remittanceInformation: ["Invoice 4711 of 2026-11-01, order PO 88-1"],
        },
      ],
    },
  ],
};

// testdata/mt103/qenex-full-stp.fin as a model: every field the codec supports.
const mt103Message: mt103.Mt103Message = {
  basicHeader: { senderLtAddress: "BANKDEFFAXXX", sessionNumber: "0001", sequenceNumber: "000123" },
  applicationHeader: { receiverLtAddress: "BANKUS33XXXX", priority: "U", deliveryMonitoring: "3", obsolescencePeriod: "003" },
  userHeader: { uetr, stp: true, messageUserReference: "MUR0001" },
  text: {
    sendersReference: "INV-2026/0042",
    bankOperationCode: "CRED",
    valueDate: "2026-11-27",
    interbankSettlement: { currency: "JPY", amount: "1500000" },
    orderingCustomer: {
      option: "K",
      account: "DE89370400440532013000",
      nameAndAddress: ["ACME MASCHINENBAU GMBH", "HAUPTSTRASSE 1", "10115 BERLIN"],
    },
    orderingInstitution: { bic: "BANKDEFFXXX" },
    accountWithInstitution: { account: "021040078", bic: "BANKUS33" },
    beneficiary: { option: "A", account: "567876543", bic: "BENEUS33XXX" },
    remittanceInformation: ["INVOICE 4711 OF 2026-11-01, ORDER", "(PO) 88-1, ATTN: ACCOUNTS PAYABLE"],
    detailsOfCharges: "SHA",
    sendersCharges: [{ currency: "EUR", amount: "12.50" }],
  },
  trailer: [{ tag: "CHK", value: "123456789ABC" }],
};

// testdata/fedwire/qenex-customer-transfer.txt as a model: a customer transfer (CTR).
const fedwireMessage: fedwire.FedwireMessage = {
  senderSupplied: { formatVersion: "30", userRequestCorrelation: "QENEX001", testProductionCode: "P", messageDuplicationCode: "" },
  typeSubtype: { typeCode: "10", subtypeCode: "00" },
  imad: { cycleDate: "2026-11-27", inputSource: "QNXSRC01", inputSequenceNumber: "000042" },
  amountUsd: "1000.00",
  senderDepositoryInstitution: { routingNumber: "011104238", shortName: "BANK OF ORIGIN" },
  senderReference: "INV-2026-0042",
  receiverDepositoryInstitution: { routingNumber: "021040078", shortName: "BANK OF BENEFIC" },
  businessFunction: { code: "CTR" },
  beneficiary: {
    identificationCode: "D",
    identifier: "567876543",
    name: "CORPORATION B",
    addressLines: ["1 MARKET ST", "SAN FRANCISCO CA 94105"],
  },
  originator: {
    identificationCode: "D",
    identifier: "5647772655",
    name: "CORPORATION A",
    addressLines: ["200 MAIN ST", "BOSTON MA 02110"],
  },
  originatorToBeneficiary: ["INVOICE 4711", "PO 88-1"],
};

const receivingRoutingNumbers = ["231380104", "011104238", "021040078", "121042882"] as const;
const receiverNames = ["JANE DOE", "JOHN ROE", "ANN LEE", "MARIA GARCIA", "WEI ZHANG", "OLUWASEUN ADEYEMI"] as const;

/** A PPD payroll file from ODFI 12104288: one credits-only batch, every fifth entry to savings, every fourth with a 05 addenda. */
function nachaPayroll(entriesCount: number): nacha.NachaFile {
  const entries: nacha.EntryDetail[] = [];
  for (let i = 1; i <= entriesCount; i++) {
    const sequence = String(i).padStart(7, "0");
    entries.push({
      transactionCode: i % 5 === 0 ? "32" : "22",
      receivingDfiRoutingNumber: receivingRoutingNumbers[i % receivingRoutingNumbers.length] ?? "231380104",
      dfiAccountNumber: String(100_000_000 + ((i * 7_919) % 900_000_000)),
      // 1,000.00 to 4,999.99 USD, spread deterministically.
      amountMinor: BigInt(100_000 + ((i * 7_919) % 400_000)),
      identificationNumber: `EMP${sequence}`,
      receiverName: receiverNames[i % receiverNames.length] ?? "JANE DOE",
      discretionaryData: "",
      traceNumber: `12104288${sequence}`,
      addenda: i % 4 === 0 ? [{ typeCode: "05", paymentRelatedInformation: `PAYROLL NOV 2026 EMP${sequence}` }] : [],
    });
  }
  // The file and PPD batch headers of the tests' sample file, with these entries.
  const sample = nachaFixtures.sampleFile();
  const batchHeader = sample.batches[0]?.header;
  if (!batchHeader) throw new Error("the NACHA sample file has no batch");
  return { header: sample.header, batches: [{ header: batchHeader, entries }] };
}

// JSON has no bigint, so the NACHA baseline converts each entry's amount to a decimal string and
// back, by hand: a replacer / reviver function does the same 1.5× / 6× slower (Node 24, 1,000 entries).
function nachaToJson(file: nacha.NachaFile): string {
  const batches = file.batches.map((b) => ({ ...b, entries: b.entries.map((e) => ({ ...e, amountMinor: e.amountMinor.toString() })) }));
  return JSON.stringify({ ...file, batches });
}

function nachaFromJson(json: string): nacha.NachaFile {
  const file = JSON.parse(json) as { batches: { entries: { amountMinor: string | bigint }[] }[] };
  for (const batch of file.batches) {
    for (const entry of batch.entries) entry.amountMinor = BigInt(entry.amountMinor);
  }
  return file as unknown as nacha.NachaFile;
}

function nachaCodec(entriesCount: number): Codec<nacha.NachaFile> {
  return {
    name: `nacha ${entriesCount.toLocaleString("en-US")} ${entriesCount === 1 ? "entry" : "entries"}`,
    entriesPerMessage: entriesCount,
    model: nachaPayroll(entriesCount),
    render: nacha.renderNachaFile,
    parse: nacha.parseNachaFile,
    toJson: nachaToJson,
    fromJson: nachaFromJson,
  };
}

function codecs(): Codec<unknown>[] {
  const list = [
    codec("pacs.008.001.08", 1, pacs008, iso20022.renderPacs008, iso20022.parsePacs008),
    codec("pacs.002.001.10", 1, pacs002, iso20022.renderPacs002, iso20022.parsePacs002),
    codec("pacs.004.001.09", 1, pacs004, iso20022.renderPacs004, iso20022.parsePacs004),
    codec("pain.001.001.10", 1, pain001, iso20022.renderPain001, iso20022.parsePain001),
    codec("mt103", 1, mt103Message, mt103.renderMt103, mt103.parseMt103),
    nachaCodec(1),
    nachaCodec(nachaEntriesLarge),
    codec("fedwire tags", 1, fedwireMessage, fedwire.renderFedwire, fedwire.parseFedwire),
  ];
  return list as Codec<unknown>[];
}

function codec<M>(name: string, entriesPerMessage: number, model: M, render: (m: M) => string, parse: (t: string) => M): Codec<M> {
  return { name, entriesPerMessage, model, render, parse, toJson: (m) => JSON.stringify(m), fromJson: (json) => JSON.parse(json) as M };
}

/** Render, parse back, compare; then the same through JSON. Throws (with a diff) when a model does not survive. */
function verify(c: Codec<unknown>): string {
  const text = c.render(c.model);
  deepStrictEqual(c.parse(text), c.model, `${c.name}: the rendered message does not parse back to the model`);
  deepStrictEqual(c.render(c.parse(text)), text, `${c.name}: rendering the parsed model changes the text`);
  deepStrictEqual(c.fromJson(c.toJson(c.model)), c.model, `${c.name}: the JSON baseline does not round-trip`);
  return text;
}

/** Warm-up for warmupMs, then enough iterations for about durationMs, each timed on its own. */
function measure(operation: () => unknown, s: Settings): Timing {
  const warmupStart = process.hrtime.bigint();
  const warmupEnd = warmupStart + BigInt(Math.round(s.warmupMs * 1e6));
  let warmupIterations = 0;
  let now = warmupStart;
  while (now < warmupEnd || warmupIterations < 10) {
    operation();
    warmupIterations++;
    now = process.hrtime.bigint();
  }
  const perIterationNs = Number(now - warmupStart) / warmupIterations;
  const iterations = Math.min(iterationsMax, Math.max(iterationsMin, Math.ceil((s.durationMs * 1e6) / perIterationNs)));
  const samplesNs = new Float64Array(iterations);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const before = process.hrtime.bigint();
    operation();
    samplesNs[i] = Number(process.hrtime.bigint() - before);
  }
  const wallNs = Number(process.hrtime.bigint() - start);
  samplesNs.sort();
  return {
    iterations,
    messagesPerSecond: (iterations * 1e9) / wallNs,
    p50Us: percentile(samplesNs, 50) / 1000,
    p99Us: percentile(samplesNs, 99) / 1000,
  };
}

function percentile(sortedNs: Float64Array, p: number): number {
  return sortedNs[Math.min(sortedNs.length - 1, Math.ceil((p / 100) * sortedNs.length) - 1)] ?? Number.NaN;
}

/** Four rows per format: render, its JSON.stringify baseline, parse, its JSON.parse baseline. */
function benchCodec(c: Codec<unknown>, text: string, s: Settings): Row[] {
  const json = c.toJson(c.model);
  const render = measure(() => c.render(c.model), s);
  const stringify = measure(() => c.toJson(c.model), s);
  const parse = measure(() => c.parse(text), s);
  const jsonParse = measure(() => c.fromJson(json), s);
  const row = (operation: string, chars: number, timing: Timing, baseline?: Timing): Row => ({
    format: c.name,
    operation,
    entriesPerMessage: c.entriesPerMessage,
    chars,
    timing,
    costVsJson: baseline === undefined ? undefined : baseline.messagesPerSecond / timing.messagesPerSecond,
  });
  return [
    row("render", text.length, render, stringify),
    row("JSON.stringify", json.length, stringify),
    row("parse", text.length, parse, jsonParse),
    row("JSON.parse", json.length, jsonParse),
  ];
}

const columns = [
  ["format", 20],
  ["operation", 15],
  ["entries", 7],
  ["chars", 7],
  ["messages/s", 11],
  ["entries/s", 11],
  ["p50 µs", 9],
  ["p99 µs", 9],
  ["× JSON", 7],
] as const;

function formatRow(cells: string[]): string {
  return cells.map((cell, i) => (i < 2 ? cell.padEnd(columns[i]?.[1] ?? 0) : cell.padStart(columns[i]?.[1] ?? 0))).join("  ");
}

function rowCells(r: Row): string[] {
  const rate = (n: number) => Math.round(n).toLocaleString("en-US");
  const micros = (us: number) => (us < 100 ? us.toFixed(2) : us.toFixed(0));
  return [
    r.format,
    r.operation,
    r.entriesPerMessage.toLocaleString("en-US"),
    r.chars.toLocaleString("en-US"),
    rate(r.timing.messagesPerSecond),
    rate(r.timing.messagesPerSecond * r.entriesPerMessage),
    micros(r.timing.p50Us),
    micros(r.timing.p99Us),
    r.costVsJson === undefined ? "" : `${r.costVsJson.toFixed(1)}×`,
  ];
}

function settings(): Settings {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: process.env.BENCH_SECONDS ?? "1" },
      "warmup-seconds": { type: "string", default: process.env.BENCH_WARMUP_SECONDS ?? "0.2" },
    },
    // `pnpm bench:payments-formats -- --seconds 2` forwards the "--" itself.
    allowPositionals: true,
  });
  const seconds = Number(values.seconds);
  const warmupSeconds = Number(values["warmup-seconds"]);
  if (!(seconds > 0 && seconds <= secondsMax) || !(warmupSeconds >= 0 && warmupSeconds <= secondsMax)) {
    throw new Error(`--seconds must be in (0, ${secondsMax}] and --warmup-seconds in [0, ${secondsMax}]`);
  }
  return { durationMs: seconds * 1000, warmupMs: warmupSeconds * 1000 };
}

function main(): void {
  const s = settings();
  const list = codecs();
  // Every model must survive its round trip before anything is timed.
  const texts = list.map(verify);
  console.log(
    `node ${process.version}, ${os.cpus()[0]?.model ?? "unknown CPU"} × ${os.availableParallelism()}, load ${os.loadavg()[0]?.toFixed(2)}`,
  );
  console.log(`per row: ${s.warmupMs / 1000} s warm-up, then about ${s.durationMs / 1000} s of individually timed iterations`);
  const floor = measure(() => undefined, s);
  console.log(`timer floor (an empty timed iteration): p50 ${floor.p50Us.toFixed(3)} µs\n`);
  console.log(formatRow(columns.map(([title]) => title)));
  for (const [i, c] of list.entries()) {
    for (const row of benchCodec(c, texts[i] ?? "", s)) console.log(formatRow(rowCells(row)));
  }
  console.log("\n× JSON: the JSON baseline's messages/s over the row's (how many times slower than JSON of the same model).");
  // The SEPA scheme rules run on every SEPA payment at creation (the dry build) and again when it is sent.
  if (iso20022.validateSepaPacs008(sepaPacs008).length > 0) throw new Error("the SEPA pacs.008 fixture breaks the SEPA rules");
  const sepaRules = measure(() => iso20022.validateSepaPacs008(sepaPacs008), s);
  const sepaRender = measure(() => iso20022.renderPacs008(sepaPacs008), s);
  console.log(
    `SEPA scheme rules on a pacs.008 (validateSepaPacs008): p50 ${sepaRules.p50Us.toFixed(1)} µs, against rendering it: p50 ${sepaRender.p50Us.toFixed(1)} µs`,
  );
}

main();

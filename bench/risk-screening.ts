// Sanctions screening speed: one name against a 20,000-entry list through the blocking index
// (`screen`), next to the same scoring over every name (`screenExhaustive`), in one run on one
// seeded synthetic list plus the synthetic OFAC-format test list. Target: indexed p50 ≤ 5 ms.
// Also checks that blocking loses nothing: every entry the exhaustive scan reports above the
// threshold must be reported by the index too (recall 1.0 expected).

import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  createScreeningIndex,
  readSdnDirectory,
  type ScreeningCandidate,
  type ScreeningEntryInput,
  type ScreeningQuery,
  screen,
  screenExhaustive,
} from "@qenex/risk";

const testListPath = fileURLToPath(new URL("../packages/risk/testdata/sanctions/", import.meta.url));

type Settings = { entries: number; queries: number; seed: number; threshold: number; warmupQueries: number };

function settings(): Settings {
  const { values } = parseArgs({
    options: {
      entries: { type: "string", default: process.env.BENCH_ENTRIES ?? "20000" },
      queries: { type: "string", default: process.env.BENCH_QUERIES ?? "2000" },
      seed: { type: "string", default: process.env.BENCH_SEED ?? "1" },
      threshold: { type: "string", default: process.env.BENCH_THRESHOLD ?? "0.88" },
    },
  });
  const result = {
    entries: Number(values.entries),
    queries: Number(values.queries),
    seed: Number(values.seed),
    threshold: Number(values.threshold),
    warmupQueries: 200,
  };
  if (
    !(Number.isInteger(result.entries) && result.entries >= 100 && result.entries <= 1_000_000) ||
    !(Number.isInteger(result.queries) && result.queries >= 10 && result.queries <= 100_000) ||
    !Number.isInteger(result.seed) ||
    !(result.threshold > 0 && result.threshold <= 1)
  ) {
    throw new Error("--entries 100..1000000, --queries 10..100000, --seed an integer, --threshold (0, 1]");
  }
  return result;
}

/** mulberry32: small, seeded, good enough to shape test data. */
function createRandom(seed: number): { next: () => number; int: (n: number) => number; pick: <T>(items: readonly T[]) => T } {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: <T>(items: readonly T[]): T => items[int(items.length)] as T };
}

type Random = ReturnType<typeof createRandom>;

// Name material in the shapes the SDN list holds: Russian, Arabic, Persian, Chinese, Korean,
// Spanish, Turkic and English personal names; trading, shipping and finance entity names; vessels.
const givenNames = (
  "Vladimir Aleksandr Dmitry Sergei Igor Oleg Yuri Nikolai Mikhail Andrei Ivan Pavel Viktor Roman Artem Maxim Boris Gennady " +
  "Mohammed Ahmed Ali Hassan Hussein Omar Abdullah Abdul Khalid Yusuf Ibrahim Mustafa Tariq Faisal Hamza Bilal Karim Nasser Said " +
  "Reza Mehdi Hossein Javad Mahmoud Saeed Ali-Akbar Gholam Farhad Majid Wei Jun Ming Hui Lei Jian Feng Tao Yong Hong Chol Song " +
  "Kwang Myong Jong Hyon Jose Luis Carlos Juan Miguel Jorge Alejandro Diego Rafael Fernando Maria Ana Carmen Rosa Elena Olga " +
  "Natalia Tatiana Svetlana Irina Fatima Aisha Zainab Maryam John Michael David James Robert William Peter Thomas Rustam Timur " +
  "Bakhtiyor Nurlan Azamat Erlan Ruslan Kamil Murat Emre Mehmet Ayse Zeynep"
).split(" ");
const surnames = (
  "Ivanov Petrov Sidorov Smirnov Kuznetsov Popov Vasiliev Sokolov Mikhailov Novikov Fedorov Morozov Volkov Alekseev Lebedev " +
  "Semenov Egorov Pavlov Kozlov Stepanov Nikolaev Orlov Andreev Makarov Zakharov Zaitsev Solovyov Borisov Yakovlev Grigoriev " +
  "Romanov Vorobiev Sergeev Frolov Alexandrov Dmitriev Korolev Gusev Kiselev Ilyin Maksimov Polyakov Sorokin Vinogradov " +
  "Al-Rashid Al-Zahrani Al-Qahtani Al-Ghamdi Al-Harbi Al-Otaibi Al-Shehri Al-Dosari Haddad Khoury Nasrallah Mansour Hamdan " +
  "Rahimi Hosseini Mohammadi Ahmadi Karimi Rezaei Moradi Jafari Sadeghi Ghasemi Zhang Wang Li Liu Chen Yang Huang Zhao Wu Zhou " +
  "Kim Pak Choe Ri Jong Kang Han Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez Torres Flores Rivera " +
  "Gomez Diaz Reyes Morales Cruz Ortiz Gutierrez Chavez Karimov Aliyev Nazarbayev Tashkentov Yilmaz Kaya Demir Celik Sahin " +
  "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Jackson Martin Thompson White Harris"
).split(" ");
const syllables = "ka ra ba de mi no sa to vi la ze ro ma shi ko nu ga te ri lo an ov ev in ar el us ul am ad ur iz".split(" ");
const surnameEndings = ["ov", "ev", "enko", "ski", "yan", "idze", "i", "zadeh", "oglu", "ani", "ez", "ova"];
const entityWords = (
  "Global Trans Euro Asia Pacific Gulf Petro Neft Gas Energy Oil Steel Metal Techno Sino Rus Iran Persia Caspian Baltic Nord " +
  "Sun Star Golden Silver Eagle Falcon Lion Crescent Horizon Ocean Delta Alpha Omega Prime United General National International " +
  "Atlas Orient Zenith Phoenix Summit Vertex Meridian Aurora Polar Emerald Sapphire"
).split(" ");
const entityKinds = (
  "Trading Shipping Logistics Holdings Investments Industries Bank Exchange Petroleum Chemicals Aviation Construction " +
  "Engineering Electronics Resources Finance Capital Maritime Commerce Group Import Export Development Mining Telecom"
).split(" ");
const legalForms = ["LLC", "LTD", "CO., LTD.", "INC.", "GMBH", "S.A.", "JSC", "OOO", "PJSC", "FZE", "PLC", "LIMITED", "CORP."];
const vesselWords = "Sea Ocean Star Breeze Wave Pearl Spirit Glory Fortune Dawn Jade Coral Wind Storm Light Hope".split(" ");

function syllableName(random: Random): string {
  let name = "";
  for (let i = 0, n = 2 + random.int(2); i < n; i++) name += random.pick(syllables);
  return name + random.pick(surnameEndings);
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function personName(random: Random): { surname: string; given: string[] } {
  const surname = random.next() < 0.5 ? random.pick(surnames) : capitalise(syllableName(random));
  const given = [random.pick(givenNames)];
  if (random.next() < 0.5) given.push(random.next() < 0.5 ? random.pick(givenNames) : `${random.pick(givenNames)}ovich`);
  return { surname, given };
}

/** A transliteration-style variant: one or two letter-level edits of the kind that differ between sources. */
function variant(random: Random, text: string): string {
  const swaps: [RegExp, string][] = [
    [/ov\b/i, "off"],
    [/y/i, "i"],
    [/ou/i, "u"],
    [/kh/i, "h"],
    [/ei/i, "ey"],
    [/ks/i, "x"],
    [/a\b/i, "ah"],
    [/ch/i, "tch"],
  ];
  let result = text;
  for (let edits = 1 + random.int(2); edits > 0; edits--) {
    const swap = random.pick(swaps);
    if (swap[0].test(result)) result = result.replace(swap[0], swap[1]);
    else result = typo(random, result);
  }
  return result;
}

/** One typing error: a letter dropped, doubled, replaced or two letters swapped, never the first letter. */
function typo(random: Random, text: string): string {
  if (text.length < 4) return text;
  const at = 1 + random.int(text.length - 2);
  const kind = random.int(4);
  if (kind === 0) return text.slice(0, at) + text.slice(at + 1);
  if (kind === 1) return text.slice(0, at) + text.charAt(at) + text.slice(at);
  if (kind === 2) return text.slice(0, at) + String.fromCharCode(97 + random.int(26)) + text.slice(at + 1);
  return text.slice(0, at) + text.charAt(at + 1) + text.charAt(at) + text.slice(at + 2);
}

function syntheticEntry(random: Random, id: number): ScreeningEntryInput {
  const shape = random.next();
  if (shape < 0.6) {
    const { surname, given } = personName(random);
    const name = `${surname.toUpperCase()}, ${given.join(" ")}`;
    const aliases = Array.from({ length: random.int(4) }, () => ({
      name: `${variant(random, surname).toUpperCase()}, ${variant(random, given[0] as string)}`,
    }));
    const year = 1940 + random.int(60);
    return { id, name, type: "individual", aliases, datesOfBirth: [{ yearFrom: year, yearTo: year }], countries: ["Russia"] };
  }
  if (shape < 0.95) {
    const words = [random.pick(entityWords), ...(random.next() < 0.5 ? [random.pick(entityWords)] : []), random.pick(entityKinds)];
    const name = `${words.join(" ")} ${random.pick(legalForms)}`.toUpperCase();
    const aliases = Array.from({ length: random.int(3) }, () => ({
      name: `${variant(random, words.join(" "))} ${random.pick(legalForms)}`.toUpperCase(),
    }));
    return { id, name, type: "entity", aliases };
  }
  const name = `${random.pick(vesselWords)} ${random.pick(vesselWords)}${random.next() < 0.3 ? ` ${1 + random.int(9)}` : ""}`.toUpperCase();
  return { id, name, type: "vessel" };
}

type BenchQuery = { kind: "hit" | "near-miss" | "miss"; query: ScreeningQuery; targetId?: number };

function hitQuery(random: Random, entries: readonly ScreeningEntryInput[]): BenchQuery {
  const entry = random.pick(entries);
  const names = [entry.name, ...(entry.aliases ?? []).map((alias) => alias.name)];
  let tokens = random.pick(names).replace(",", "").split(" ");
  if (random.next() < 0.5) tokens.reverse();
  if (random.next() < 0.3 && tokens.length > 2) tokens = tokens.filter((_, i) => i !== 1);
  const roll = random.next();
  if (roll < 0.4) {
    const longest = tokens.reduce((best, token, i) => (token.length > (tokens[best]?.length ?? 0) ? i : best), 0);
    tokens[longest] = typo(random, tokens[longest] as string);
  }
  const name = roll < 0.7 ? tokens.join(" ").toLowerCase() : tokens.join(" ");
  return { kind: "hit", query: { name }, targetId: entry.id };
}

function benchQueries(random: Random, entries: readonly ScreeningEntryInput[], count: number): BenchQuery[] {
  const fixed: BenchQuery[] = [
    { kind: "hit", query: { name: "Vladimir PUTIN" }, targetId: 90001 },
    { kind: "hit", query: { name: "putin vladimir" }, targetId: 90001 },
    { kind: "hit", query: { name: "Vladímir Pútin" }, targetId: 90001 },
    { kind: "hit", query: { name: "Acme Trading LLC" }, targetId: 90003 },
    { kind: "near-miss", query: { name: "Vladimir Petrov" } },
    { kind: "miss", query: { name: "John Smith" } },
    { kind: "miss", query: { name: "Putnam Investments" } },
  ];
  const queries = [...fixed];
  while (queries.length < count) {
    const roll = random.next();
    if (roll < 0.4) queries.push(hitQuery(random, entries));
    else if (roll < 0.7) {
      // Real given names and surnames in combinations the list may not hold.
      const name = `${random.pick(givenNames)} ${random.pick(surnames)}`;
      queries.push({ kind: "near-miss", query: { name } });
    } else {
      const name = `${capitalise(syllableName(random))} ${capitalise(syllableName(random))}`;
      queries.push({ kind: "miss", query: { name } });
    }
  }
  return queries;
}

function percentile(sortedMs: readonly number[], p: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))] ?? Number.NaN;
}

type Run = { latenciesMs: number[]; results: ScreeningCandidate[][] };

function timeAll(queries: readonly BenchQuery[], run: (query: ScreeningQuery) => ScreeningCandidate[]): Run {
  const latenciesMs: number[] = [];
  const results: ScreeningCandidate[][] = [];
  for (const { query } of queries) {
    const startedMs = performance.now();
    results.push(run(query));
    latenciesMs.push(performance.now() - startedMs);
  }
  return { latenciesMs, results };
}

function latencyRow(label: string, run: Run): string {
  const sorted = [...run.latenciesMs].sort((a, b) => a - b);
  const [p50, p95, p99] = [50, 95, 99].map((p) => percentile(sorted, p).toFixed(3).padStart(9));
  const hits = run.results.filter((result) => result.length > 0).length;
  return `${label.padEnd(22)} ${p50} ${p95} ${p99} ${String(hits).padStart(12)}`;
}

/** Entries the exhaustive scan reports that the index also reports, per query kind. */
function recall(queries: readonly BenchQuery[], indexed: Run, exhaustive: Run, kind: BenchQuery["kind"]): string {
  let expected = 0;
  let found = 0;
  queries.forEach((query, i) => {
    if (query.kind !== kind) return;
    const indexedIds = new Set(indexed.results[i]?.map((candidate) => candidate.id));
    for (const candidate of exhaustive.results[i] ?? []) {
      expected++;
      if (indexedIds.has(candidate.id)) found++;
    }
  });
  return `${kind.padEnd(10)} ${String(found).padStart(6)} / ${String(expected).padEnd(6)} recall ${expected === 0 ? "n/a" : (found / expected).toFixed(4)}`;
}

async function main(): Promise<void> {
  const config = settings();
  const random = createRandom(config.seed);
  const testList = await readSdnDirectory(testListPath);
  const entries = [...Array.from({ length: config.entries }, (_, i) => syntheticEntry(random, i + 1)), ...testList];
  const buildStartedMs = performance.now();
  const index = createScreeningIndex(entries);
  const buildMs = performance.now() - buildStartedMs;
  console.log(
    `list: ${config.entries} synthetic + ${testList.length} test entries = ${index.entryCount} entries, ` +
      `${index.nameCount} names, ${index.tokenCount} distinct tokens; index built in ${buildMs.toFixed(1)} ms`,
  );
  const queries = benchQueries(random, entries, config.queries);
  const counts = ["hit", "near-miss", "miss"].map((kind) => `${queries.filter((q) => q.kind === kind).length} ${kind}`);
  console.log(`queries: ${queries.length} (${counts.join(", ")}), threshold ${config.threshold}, limit 100`);
  const options = { threshold: config.threshold, limit: 100 };
  // Warm-up: let V8 optimise both paths before anything is measured.
  const warmup = queries.slice(0, config.warmupQueries);
  timeAll(warmup, (query) => screen(index, query, options));
  timeAll(warmup, (query) => screenExhaustive(index, query, options));
  const indexed = timeAll(queries, (query) => screen(index, query, options));
  const exhaustive = timeAll(queries, (query) => screenExhaustive(index, query, options));

  console.log(
    `\n${"per query (ms)".padEnd(22)} ${"p50".padStart(9)} ${"p95".padStart(9)} ${"p99".padStart(9)} ${"with a match".padStart(12)}`,
  );
  console.log(latencyRow("indexed (screen)", indexed));
  console.log(latencyRow("brute force (all)", exhaustive));
  const p50 = (run: Run) =>
    percentile(
      [...run.latenciesMs].sort((a, b) => a - b),
      50,
    );
  const total = (run: Run) => run.latenciesMs.reduce((sum, ms) => sum + ms, 0);
  console.log(
    `speed-up: ${(p50(exhaustive) / p50(indexed)).toFixed(1)}× at p50, ${(total(exhaustive) / total(indexed)).toFixed(1)}× in total ` +
      `(${total(indexed).toFixed(0)} ms vs ${total(exhaustive).toFixed(0)} ms); target indexed p50 ≤ 5 ms: ${p50(indexed) <= 5 ? "met" : "MISSED"}`,
  );

  console.log("\nblocking recall (entries brute force reports above threshold that the index reports too):");
  for (const kind of ["hit", "near-miss", "miss"] as const) console.log(`  ${recall(queries, indexed, exhaustive, kind)}`);
  const hitQueries = queries.map((query, i) => ({ query, i })).filter(({ query }) => query.kind === "hit");
  const targetsFound = hitQueries.filter(({ query, i }) => indexed.results[i]?.some((c) => c.id === query.targetId)).length;
  console.log(`hit queries whose intended entry was reported: ${targetsFound} / ${hitQueries.length}`);
  const lost = queries.some((_, i) => (exhaustive.results[i] ?? []).some((c) => !indexed.results[i]?.some((d) => d.id === c.id)));
  if (lost) {
    console.log("FAILED: the index missed a match the brute force found");
    process.exitCode = 1;
  }
}

await main();

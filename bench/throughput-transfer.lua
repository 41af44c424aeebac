-- wrk script for bench/throughput.ts: every request is a new transfer of 0.01 USD between two
-- random accounts, with an id no other request uses (run id, thread number, a per-thread
-- counter), so the ledger never answers one from its idempotency record.
-- Arguments after `--`: run id (unique per wrk invocation), account id prefix, account count.

local threadCount = 0

-- Runs in the main Lua state, once per thread, before the threads start.
function setup(thread)
  threadCount = threadCount + 1
  thread:set("threadNumber", threadCount)
end

local runId, accountPrefix, accountCount
local sentCount = 0

function init(args)
  runId, accountPrefix, accountCount = args[1], args[2], tonumber(args[3])
  math.randomseed(os.time() * 1000 + threadNumber)
end

function request()
  sentCount = sentCount + 1
  local source = math.random(0, accountCount - 1)
  -- Shifting by 1..n-1 picks a different account without a retry loop.
  local destination = (source + math.random(1, accountCount - 1)) % accountCount
  local body = string.format(
    '{"transfer_id":"%s-%d-%d","source_account":"%s%d","destination_account":"%s%d","amount":"0.01","currency":"USD","reference":"bench"}',
    runId, threadNumber, sentCount, accountPrefix, source, accountPrefix, destination)
  return wrk.format("POST", nil, nil, body)
end

-- One line the bench parses. Latencies in microseconds; errors.status counts answers >= 400.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "wrk-result requests=%d duration_us=%d status_errors=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end

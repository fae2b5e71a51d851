-- routing_sync.lua: add one proxy process's deployment deltas to the shared
-- state of one org, and return the merged state (gateway.proxy.routing.sync).
-- load_script('routing_health', 'routing_sync'); the hash is drawn there.
--
-- KEYS[i]       deployment i's hash, sel:{<org_id>}:rt:<deployment id>, i = 1..n
-- KEYS[n+i]     deployment i's probe counter, sel:{<org_id>}:rt:<deployment id>:probe
-- ARGV[1]       now_ms, the caller's clock
-- ARGV[2]       bucket_ms: the window is counted in buckets this long
-- ARGV[3]       buckets in the window
-- ARGV[4]       alpha, the weight of one TTFB sample in the moving average
-- ARGV[5]       idle_ms: a deployment's hash expires after this long without a sync
-- ARGV[6]       JSON [[requests, failures, ttfb_sum_ms, ttfb_count, event, event_ms,
--               retry_until_ms], ...], one row per deployment, in KEYS order;
--               event is "", "open", "reopen" or "close"
--
-- Returns one {requests, failures, ttfb_us, samples, open, opened_ms,
-- retry_until_ms} per deployment: window sums over every process.

local now_ms = tonumber(ARGV[1])
local bucket_ms = tonumber(ARGV[2])
local alpha = tonumber(ARGV[4])
local rows = cjson.decode(ARGV[6])
local n = #rows
local current = math.floor(now_ms / bucket_ms)
local out = {}

for i = 1, n do
  local key, row = KEYS[i], rows[i]
  routing_health_event(key, KEYS[n + i], row[5], tonumber(row[6]))
  if row[1] > 0 then
    redis.call('HINCRBY', key, 'n:' .. current, row[1])
  end
  if row[2] > 0 then
    redis.call('HINCRBY', key, 'f:' .. current, row[2])
  end
  if row[4] > 0 then
    routing_health_ttfb(key, row[3], row[4], alpha)
  end
  if row[7] > 0 and row[7] > (tonumber(redis.call('HGET', key, 'retry')) or 0) then
    redis.call('HSET', key, 'retry', row[7])
  end
  out[i] = routing_health_read(key, current - tonumber(ARGV[3]) + 1)
  redis.call('PEXPIRE', key, tonumber(ARGV[5]))
end
return out

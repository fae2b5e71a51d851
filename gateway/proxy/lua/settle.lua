-- settle.lua: after the answer, put the actual cost in and the reservation out;
-- and pay back (or charge) the token limits the difference between the tokens
-- taken at admission and those used.
-- load_script('sliding_window', 'token_bucket', 'budget_counters', 'settle')
--
-- KEYS[1] sel:{org}:resv  KEYS[2] sel:{org}:resv:deadlines  KEYS[3] sel:{org}:budget:ready
-- KEYS[4] sel:{org}:reaped:<request id>   tombstone left by the reaper
-- KEYS[5] sel:{org}:settled:<request id>  marker: this settlement already ran
-- KEYS[6 .. 5+C]        the request's budget counters (as at admission)
-- KEYS[6+C .. 5+C+T]    its token-rate limits (token buckets)
-- ARGV[1] now_ms  ARGV[2] request id  ARGV[5] T
-- ARGV[3] the charge: the actual cost in nano-USD, capped by the proxy at what it
--         reserved (the same figure goes to the ledger)  ARGV[4] C
-- ARGV[6 ..]            3 per token limit: window_ms, capacity, tokens to take (negative: give back)
--
-- Returns {outcome, nano-USD charged}:
--   'settled'     the reservation was there: the charge goes in (never above the
--                 reservation: max output is enforced upstream and streams are
--                 cut, and a charge above it would break "spent <= limit")
--   'reaped'      the reaper already charged the estimate (a slow, not a dead,
--                 proxy): nothing more; the ledger keeps the estimate
--   'unreserved'  no reservation but trustworthy counters (they were rebuilt
--                 while the request ran): the charge goes in
--   'not_ready'   the counters are lost and await their rebuild from the
--                 ledger, where this request's cost will be found
--   'none'        no budget applied (C = 0)
--   'repeated'    this settlement already ran (a batch retried after its
--                 connection broke once Redis had run it): nothing again

local now_ms, request_id, charge = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local n_counters, n_tokens = tonumber(ARGV[4]), tonumber(ARGV[5])
local first_counter, first_token = 6, 6 + n_counters

-- Once per request: the marker outlives any retry (they follow within seconds).
if not redis.call('SET', KEYS[5], '1', 'NX', 'PX', 60000) then
  return {'repeated', 0}
end

for i = 1, n_tokens do
  local at = 6 + 3 * (i - 1)
  token_bucket_take(KEYS[first_token + i - 1], now_ms,
    tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]))
end

if n_counters == 0 then
  return {'none', 0}
end
local amount = budget_reservation(KEYS[1], request_id)
if amount then
  charge = math.min(charge, amount)
  for i = 1, n_counters do
    budget_settle(KEYS[first_counter + i - 1], amount, charge)
  end
  budget_forget(KEYS[1], KEYS[2], request_id)
  return {'settled', charge}
end
if redis.call('EXISTS', KEYS[4]) == 1 then
  return {'reaped', 0}
end
if redis.call('EXISTS', KEYS[3]) == 0 then
  return {'not_ready', 0}
end
for i = 1, n_counters do
  budget_settle(KEYS[first_counter + i - 1], 0, charge)
end
return {'unreserved', charge}

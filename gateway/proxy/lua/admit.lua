-- admit.lua: admit a request in one atomic step: its rate limits, and a
-- reservation of its worst-case cost in every budget counter it falls under,
-- for the first candidate deployment that fits; all of it or nothing.
-- load_script('sliding_window', 'token_bucket', 'limit_plan', 'budget_counters', 'admit')
--
-- KEYS[1]  sel:{org}:resv              hash, request id -> reservation
-- KEYS[2]  sel:{org}:resv:deadlines    zset, request id by deadline (the reaper's queue)
-- KEYS[3]  sel:{org}:budget:ready      marker: the counters are trustworthy
-- KEYS[4 .. 3+L]        the L rate limits' hashes (limit_plan.lua)
-- KEYS[4+L .. 3+L+C]    the C budget counters' hashes
-- ARGV[1] now_ms  ARGV[2] request id  ARGV[3] deadline_ms
-- ARGV[4]  JSON: the L limits, [[kind, window_ms, limit, cost], ...] (limit_plan.lua)
-- ARGV[5]  JSON: the C counters, [[limit_nano, expire_at_ms (0 = never), blocks (1|0), label], ...]
-- ARGV[6]  JSON: the candidates' worst-case amounts in nano-USD, in the order to try them
-- (JSON, decoded in C, rather than one argument per value: see limit_plan.lua)
--
-- Candidates are the route's deployments that may serve the request, each
-- with its own worst-case cost. A counter that cannot cover a candidate ends
-- the search if its budget blocks (on_exhausted: block); if every counter that
-- cannot cover it falls back, the next candidate is tried.
--
-- Returns {'ok', candidate index (1-based), tightest room left in nano-USD (-1: no counters)}
--         {'limited', limit index, retry ms or -1}
--         {'exhausted', counter index, candidate index, that counter's room in nano-USD}
--         {'not_ready', 0, 0}  the counters were lost (Redis restarted or was
--                               flushed) and wait for their rebuild from the ledger

local now_ms, request_id, deadline_ms = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local limits, counters, amounts = cjson.decode(ARGV[4]), cjson.decode(ARGV[5]), cjson.decode(ARGV[6])
local n_limits, n_counters = #limits, #counters
local first_limit_key, first_counter_key = 4, 4 + #limits

if n_counters > 0 and redis.call('EXISTS', KEYS[3]) == 0 then
  return {'not_ready', 0, 0}
end

-- On failover the request is admitted again for the remaining candidates: the
-- failed attempt's reservation comes out first, in the same atomic step, so
-- no other request can take its room in between.
local previous = budget_reservation(KEYS[1], request_id)
if previous then
  for i = 1, n_counters do
    budget_settle(KEYS[first_counter_key + i - 1], previous, 0)
  end
  budget_forget(KEYS[1], KEYS[2], request_id)
end

local limited, retry = limits_check(first_limit_key, limits, now_ms)
if limited ~= 0 then
  return {'limited', limited, retry}
end

-- What each counter holds, read once for every candidate.
local used = {}
for i = 1, n_counters do
  used[i] = budget_used(KEYS[first_counter_key + i - 1])
end

-- The first candidate every counter can cover, unless a blocking one cannot.
local chosen, refused_by, refused_at = 0, 0, 0
for c, amount in ipairs(amounts) do
  local fits = true
  for i, counter in ipairs(counters) do
    if used[i] + amount > counter[1] then
      -- A blocking budget refuses even where another one would fall back.
      if counter[3] == 1 then
        return {'exhausted', i, c, counter[1] - used[i]}
      end
      if refused_by == 0 then
        refused_by, refused_at = i, c
      end
      fits = false
    end
  end
  if fits then
    chosen = c
    break
  end
end
if chosen == 0 then
  return {'exhausted', refused_by, refused_at, counters[refused_by][1] - used[refused_by]}
end

limits_take(first_limit_key, limits, now_ms)
local amount = amounts[chosen]
local tightest = -1
if n_counters > 0 then
  local labels = {}
  for i, counter in ipairs(counters) do
    local key = KEYS[first_counter_key + i - 1]
    budget_reserve(key, amount, counter[2])
    local room = counter[1] - used[i] - amount
    if tightest == -1 or room < tightest then
      tightest = room
    end
    labels[i] = counter[4]
  end
  redis.call('HSET', KEYS[1], request_id,
    string.format('%d|%d|%s', amount, deadline_ms, table.concat(labels, ',')))
  redis.call('ZADD', KEYS[2], deadline_ms, request_id)
end
return {'ok', chosen, tightest}

-- budget_counters.lua: functions over budget counters and reservations.
-- Functions only: load_script() puts this file before a script body.
--
-- Amounts are integer nano-USD (gateway/proxy/money.py). Lua numbers in Redis
-- are doubles, exact for integers below 2^53 (9e15 nano-USD = 9 million USD);
-- limits are capped far below that, so sums stay exact.
--
-- A counter is a hash {spent, reserved} for one budget in one window
-- (gateway/proxy/budget/windows.py counter_key). A reservation is a field of
-- the org's reservations hash: request id -> "<amount>|<deadline_ms>|<label>,<label>…"
-- where a label "<budget_id>:<window_id>" names a counter; the reaper reads
-- labels to find the counters of a reservation whose proxy died.

local function budget_field(key, name)
  return tonumber(redis.call('HGET', key, name) or '0') or 0
end

-- What a counter holds: spent plus reserved, in one read.
local function budget_used(key)
  local fields = redis.call('HMGET', key, 'spent', 'reserved')
  return (tonumber(fields[1]) or 0) + (tonumber(fields[2]) or 0)
end

-- Move `amount` into a counter's reservations; `expire_at_ms` 0 = keep forever.
local function budget_reserve(key, amount, expire_at_ms)
  redis.call('HINCRBY', key, 'reserved', amount)
  if expire_at_ms > 0 then
    redis.call('PEXPIREAT', key, expire_at_ms)
  end
end

-- Release `reserved` from a counter and charge `charge` to it (never below zero,
-- should a counter have been rebuilt in between).
local function budget_settle(key, reserved, charge)
  local left = budget_field(key, 'reserved') - reserved
  redis.call('HSET', key, 'reserved', math.max(left, 0))
  if charge > 0 then
    redis.call('HINCRBY', key, 'spent', charge)
  end
end

-- The reservation of `request_id`: amount, deadline, labels; nil if there is none.
local function budget_reservation(reservations, request_id)
  local record = redis.call('HGET', reservations, request_id)
  if not record then
    return nil
  end
  local amount, deadline, labels = string.match(record, '^(%d+)|(%d+)|(.*)$')
  return tonumber(amount), tonumber(deadline), labels
end

local function budget_forget(reservations, deadlines, request_id)
  redis.call('HDEL', reservations, request_id)
  redis.call('ZREM', deadlines, request_id)
end

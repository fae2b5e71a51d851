-- token_bucket.lua: token-rate limit as a token bucket holding up to
-- `capacity` tokens and refilled linearly with `capacity` tokens per window.
-- Functions only: load_script() in gateway/proxy/lua_scripts.py puts this file
-- before a script body.
--
-- State, one hash per limit (the script touches only keys it was given):
--   l  level, in 1/w of a token (see below); negative = debt
--   t  the caller's clock (ms) when the level was last refilled
--   w  the window_ms the level is scaled by
-- A missing hash is a full bucket; it expires once it would be full again.
--
-- Debt: admission takes an estimate; when a request used more, the settlement
-- takes the difference and the level goes below zero, so later requests wait
-- until the refill pays it back. A refund (negative cost) never fills past
-- capacity.
--
-- Every argument is a Lua number (tonumber the ARGV) and an integer. Lua
-- numbers in Redis are doubles, exact only for integers below 2^53. Keeping
-- the level in units of 1/window_ms token makes the refill exactly `capacity`
-- units per ms, so no fraction of a token is ever rounded away between calls
-- (a bucket refilled in whole tokens and called every few ms would never
-- refill). That stays exact while capacity * window_ms < 2^53 (capacities
-- below ~1.5e11 per 60 s window). Divisions are of such integers and rounded
-- with math.floor: the double quotient of two integers below 2^53 never rounds
-- across an integer, so floor and our ceil are exact.
--
-- Times are the caller's (scripts never call TIME). A caller whose clock is
-- behind the stored refill time gets no refill and does not move that time
-- back: a clock going backwards never frees tokens.

-- a / b rounded up, for integers a >= 0, b > 0.
local function token_bucket_ceil_div(a, b)
  return math.floor((a + b - 1) / b)
end

-- ms until a bucket at `level` units is full again (0 if it is, or never refills).
local function token_bucket_ms_to_full(level, window_ms, capacity)
  local full = capacity * window_ms
  if capacity <= 0 or level >= full then
    return 0
  end
  return token_bucket_ceil_div(full - level, capacity)
end

-- The level (units) after refilling up to now_ms, and the refill time it is as of.
local function token_bucket_state(key, now_ms, window_ms, capacity)
  local full = capacity * window_ms
  local stored = redis.call('HMGET', key, 'l', 't', 'w')
  local level, at, scale = tonumber(stored[1]), tonumber(stored[2]), tonumber(stored[3])
  if level == nil or at == nil then
    return full, now_ms
  end
  if scale ~= nil and scale ~= window_ms then
    -- The limit's window changed: keep the whole tokens, rescaled.
    level = math.floor(level / scale) * window_ms
  end
  if now_ms > at then
    -- Bounding the elapsed time by the time to full keeps the product small
    -- (an idle bucket could otherwise multiply days of ms by the capacity).
    local elapsed = math.min(now_ms - at, token_bucket_ms_to_full(level, window_ms, capacity))
    level = level + elapsed * capacity
    at = now_ms
  end
  -- A capacity lowered since the last call clips what is above it.
  return math.min(level, full), at
end

-- 0 if the level after refill covers `cost` and is above 0; else ms from now_ms
-- until it will (> 0, assuming nobody else takes meanwhile), or -1 if it never
-- can (cost > capacity, or nothing refills). Reads only.
local function token_bucket_check(key, now_ms, window_ms, capacity, cost)
  local level, at = token_bucket_state(key, now_ms, window_ms, capacity)
  -- At least one unit: a bucket at or below zero admits nothing, even a free request.
  local wanted = math.max(cost * window_ms, 1)
  if level >= wanted then
    return 0
  end
  if cost > capacity or capacity <= 0 then
    return -1
  end
  local fits_at = at + token_bucket_ceil_div(wanted - level, capacity)
  return math.max(fits_at - now_ms, 1)
end

-- Refill, then take `cost` tokens (the level may go negative: debt; a negative
-- cost refunds, never past capacity); return the level in whole tokens, rounded down.
local function token_bucket_take(key, now_ms, window_ms, capacity, cost)
  local level, at = token_bucket_state(key, now_ms, window_ms, capacity)
  level = math.min(level - cost * window_ms, capacity * window_ms)
  redis.call('HSET', key, 'l', level, 't', at, 'w', window_ms)
  -- Missing means full, so the hash may go once the bucket is full again; one
  -- window more covers proxies whose clocks run behind the one that wrote.
  redis.call('PEXPIRE', key, token_bucket_ms_to_full(level, window_ms, capacity) + window_ms)
  return math.floor(level / window_ms)
end

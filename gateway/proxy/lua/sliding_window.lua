-- sliding_window.lua: request-rate limit as an approximated sliding window
-- (Upstash ratelimit's slidingWindow). Functions only: load_script() in
-- gateway/proxy/lua_scripts.py puts this file before a script body.
--
-- State, one hash per limit, so a script touches only keys it was given
-- (Redis Cluster, Upstash allow-key-locking):
--   w  index of the fixed window last written, floor(now_ms / window_ms)
--   c  cost taken in window w
--   p  cost taken in window w - 1
-- At now the sliding count is c + p * (share of window w - 1 still inside the
-- last window_ms), i.e. the previous window is assumed evenly spread.
--
-- Every argument is a Lua number (tonumber the ARGV) and an integer. Lua
-- numbers in Redis are doubles, exact only for integers below 2^53, so the
-- weighting is done by cross-multiplying instead of with a fraction:
--   (c + cost) * window + p * (window - elapsed) <= limit * window
-- which holds exactly while limit * window_ms < 2^53 (limits below ~1.5e11
-- per 60 s window). Divisions are of such integers and rounded with
-- math.floor: the double quotient of two integers below 2^53 never rounds
-- across an integer, so floor and our ceil are exact. Unlike Upstash, which
-- floors the weighted previous count, the estimate never exceeds the limit.
--
-- Times are the caller's (scripts never call TIME): every proxy passes its own
-- clock. A caller whose clock is behind the window stored (another proxy's
-- clock is ahead, or ours stepped back) is treated as standing at the start
-- of the stored window, where the previous window still counts in full: a
-- clock going backwards never frees capacity.

-- a / b rounded up, for integers a >= 0, b > 0.
local function sliding_window_ceil_div(a, b)
  return math.floor((a + b - 1) / b)
end

-- The state seen at now_ms: window index, the instant it is seen at (now_ms,
-- or the stored window's start if now_ms is before it), current and previous cost.
local function sliding_window_state(key, now_ms, window_ms)
  local index = math.floor(now_ms / window_ms)
  local stored = redis.call('HMGET', key, 'w', 'c', 'p')
  local stored_index = tonumber(stored[1])
  if stored_index == nil then
    return index, now_ms, 0, 0
  end
  local current = tonumber(stored[2]) or 0
  local previous = tonumber(stored[3]) or 0
  if stored_index > index then
    return stored_index, stored_index * window_ms, current, previous
  elseif stored_index == index then
    return index, now_ms, current, previous
  elseif stored_index == index - 1 then
    return index, now_ms, 0, current
  end
  return index, now_ms, 0, 0
end

-- 0 if `cost` more fits at now_ms; else ms from now_ms until it would (> 0,
-- assuming nobody else takes meanwhile), or -1 if it never can (cost > limit).
-- Reads only.
local function sliding_window_check(key, now_ms, window_ms, limit, cost)
  local index, at, current, previous = sliding_window_state(key, now_ms, window_ms)
  local elapsed = at - index * window_ms
  if (current + cost) * window_ms + previous * (window_ms - elapsed) <= limit * window_ms then
    return 0
  end
  if cost > limit then
    return -1
  end
  local fits_at
  if current + cost <= limit then
    -- Later in this window: fits once previous * elapsed' >= (current + cost + previous - limit) * window.
    -- previous > 0 here, or it would have fitted; the result is at most the window's end.
    local need = (current + cost + previous - limit) * window_ms
    fits_at = index * window_ms + sliding_window_ceil_div(need, previous)
  else
    -- In the next window, where current becomes the previous window and fades:
    -- fits once current * elapsed' >= (cost + current - limit) * window (current > 0 here).
    local need = (cost + current - limit) * window_ms
    fits_at = (index + 1) * window_ms + sliding_window_ceil_div(need, current)
  end
  return math.max(fits_at - now_ms, 1)
end

-- Add cost to the current window (a negative cost gives back, never below 0);
-- return the current window's new count.
local function sliding_window_take(key, now_ms, window_ms, cost)
  local index, _, current, previous = sliding_window_state(key, now_ms, window_ms)
  current = math.max(current + cost, 0)
  redis.call('HSET', key, 'w', index, 'c', current, 'p', previous)
  -- Counts matter until the end of the next window: at most 2 windows from now.
  redis.call('PEXPIRE', key, 2 * window_ms)
  return current
end

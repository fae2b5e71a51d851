-- limit_plan.lua: check a plan of rate limits, and take from every one of them.
-- Functions only, loaded after sliding_window.lua and token_bucket.lua; used by
-- limits.lua (limits alone) and admit.lua (limits with a budget reservation).
--
-- A plan of n limits is its keys, KEYS[first_key .. first_key + n - 1], and
-- one ARGV string holding a JSON array of n [kind, window_ms, limit, cost]:
-- kind 'rpm' (sliding window) or 'tpm' (token bucket). One string instead of
-- 4n arguments: packing arguments one by one was a fifth of the proxy's
-- admission CPU (py-spy); cjson decodes in C. JSON numbers become Lua
-- numbers, exact for the integers used (below 2^53).

-- Reads only. Returns 0, 0 when every limit admits its cost; else the plan
-- index (1-based) of the limit that keeps the request out longest and its
-- retry in ms (> 0), or -1 if it never fits (cost above the limit).
local function limits_check(first_key, plan, now_ms)
  local worst, worst_retry = 0, 0
  for i, limit in ipairs(plan) do
    local kind, window_ms, capacity, cost = limit[1], limit[2], limit[3], limit[4]
    local key = KEYS[first_key + i - 1]
    local retry
    if kind == 'rpm' then
      retry = sliding_window_check(key, now_ms, window_ms, capacity, cost)
    elseif kind == 'tpm' then
      retry = token_bucket_check(key, now_ms, window_ms, capacity, cost)
    else
      error('unknown limit kind ' .. tostring(kind))
    end
    if retry ~= 0 and worst_retry ~= -1 and (retry == -1 or retry > worst_retry) then
      worst, worst_retry = i, retry
    end
  end
  return worst, worst_retry
end

-- Take every limit's cost (call after limits_check admitted them all).
local function limits_take(first_key, plan, now_ms)
  for i, limit in ipairs(plan) do
    local key = KEYS[first_key + i - 1]
    if limit[1] == 'rpm' then
      sliding_window_take(key, now_ms, limit[2], limit[4])
    else
      token_bucket_take(key, now_ms, limit[2], limit[3], limit[4])
    end
  end
end

-- routing_health.lua: one deployment's shared health in one hash. Functions
-- only: load_script() in gateway/proxy/lua_scripts.py puts this file before
-- routing_sync.lua.
--
-- Hash fields: n:<bucket>, f:<bucket> (requests and failures counted in that
-- bucket of the window), ttfb (moving average, ms), samples, open (0|1),
-- opened (ms), retry (ms until which a 429's retry-after holds).
-- Breaker transitions (gateway/proxy/routing/breaker.py) arrive as events:
-- "open" (only a closed breaker opens; the first opener's time stands),
-- "reopen" (a failed probe), "close" (a probe succeeded: a fresh window).

local function routing_health_event(key, probe_key, event, at_ms)
  local state = redis.call('HMGET', key, 'open', 'opened')
  local is_open, opened = state[1] == '1', tonumber(state[2]) or 0
  if event == 'open' and not is_open then
    redis.call('HSET', key, 'open', 1, 'opened', at_ms)
    redis.call('DEL', probe_key)
  elseif event == 'reopen' then
    redis.call('HSET', key, 'open', 1, 'opened', math.max(opened, at_ms))
    redis.call('DEL', probe_key)
  elseif event == 'close' and is_open then
    redis.call('HSET', key, 'open', 0)
    redis.call('DEL', probe_key)
    for _, name in ipairs(redis.call('HKEYS', key)) do
      if string.match(name, '^[nf]:') then
        redis.call('HDEL', key, name)
      end
    end
  end
end

-- `count` TTFB samples of mean `sum / count`, each weighted alpha, in one step.
local function routing_health_ttfb(key, sum, count, alpha)
  local old = redis.call('HMGET', key, 'ttfb', 'samples')
  local ttfb, samples = tonumber(old[1]), tonumber(old[2]) or 0
  local mean = sum / count
  if ttfb == nil or samples == 0 then
    ttfb = mean
  else
    ttfb = ttfb + (1 - (1 - alpha) ^ count) * (mean - ttfb)
  end
  redis.call('HSET', key, 'ttfb', tostring(ttfb), 'samples', samples + count)
end

-- The window's sums and the other fields; buckets older than `oldest` are deleted.
local function routing_health_read(key, oldest)
  local fields = redis.call('HGETALL', key)
  local requests, failures = 0, 0
  local merged = {ttfb = 0, samples = 0, open = 0, opened = 0, retry = 0}
  for j = 1, #fields, 2 do
    local name, value = fields[j], fields[j + 1]
    local kind, bucket = string.match(name, '^([nf]):(%d+)$')
    if not kind then
      merged[name] = tonumber(value) or 0
    elseif tonumber(bucket) < oldest then
      redis.call('HDEL', key, name)
    elseif kind == 'n' then
      requests = requests + tonumber(value)
    else
      failures = failures + tonumber(value)
    end
  end
  return {requests, failures, math.floor(merged.ttfb * 1000), merged.samples, merged.open,
    merged.opened, merged.retry}
end

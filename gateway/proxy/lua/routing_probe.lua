-- routing_probe.lua: may this request probe a half-open deployment?
-- (gateway.proxy.routing.sync.try_probe; routing/breaker.py draws the states)
--
-- KEYS[1]       the deployment's hash, sel:{<org_id>}:rt:<deployment id> (routing_sync.lua)
-- KEYS[2]       its probe counter, sel:{<org_id>}:rt:<deployment id>:probe
-- ARGV[1]       now_ms, the caller's clock
-- ARGV[2]       cooldown_ms: how long the breaker stays open before probes
-- ARGV[3]       probes allowed per half-open period
-- ARGV[4]       slot_ms: a probe slot not given back is free again after this long
--
-- Returns {1, opened_ms}: probe granted; {0, opened_ms}: not now (open, or the
-- probes are taken); {2, 0}: the breaker is closed (another probe succeeded).

local now_ms = tonumber(ARGV[1])
local state = redis.call('HMGET', KEYS[1], 'open', 'opened')
if state[1] ~= '1' then
  return {2, 0}
end
local opened = tonumber(state[2]) or 0
if now_ms < opened + tonumber(ARGV[2]) then
  return {0, opened}
end
local taken = redis.call('INCR', KEYS[2])
if taken == 1 then
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
end
if taken <= tonumber(ARGV[3]) then
  return {1, opened}
end
return {0, opened}

-- publish_snapshot.lua: store a tenant snapshot unless a newer one is already there.
--
-- KEYS[1]  sel:{<org_id>}:snapshot   hash with fields version, body
-- ARGV[1]  version (integer, grows with every committed change)
-- ARGV[2]  body (JSON snapshot)
-- ARGV[3]  pub/sub channel for the invalidation notice
-- ARGV[4]  notice payload "<org_id>:<version>"
--
-- Returns 1 if stored and announced, 0 if an equal or newer version was there
-- (a slower publisher lost a race; its data is already superseded).
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '-1')
local incoming = tonumber(ARGV[1])
if current >= incoming then
  return 0
end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'body', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1

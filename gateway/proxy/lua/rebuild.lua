-- rebuild.lua: restore an org's lost budget counters from the ledger's sums,
-- then mark them trustworthy so admit.lua admits again. Does nothing if the
-- marker is there (someone rebuilt first, or nothing was lost).
-- load_script('rebuild')
--
-- KEYS[1] sel:{org}:budget:ready  KEYS[2] sel:{org}:resv  KEYS[3] sel:{org}:resv:deadlines
-- KEYS[4 ..]  the counters of the org's budgets' current windows
-- ARGV[2i-1], ARGV[2i]  counter i's spent (nano-USD, from the ledger) and expire_at_ms (0 = never)
--
-- Returns 1 if rebuilt, 0 if the marker was there.

if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
-- Reservations that survived a partial loss belong to counters that did not:
-- their requests settle as 'unreserved' and are charged in full.
redis.call('DEL', KEYS[2], KEYS[3])
for i = 4, #KEYS do
  local at = 2 * (i - 3) - 1
  redis.call('HSET', KEYS[i], 'spent', ARGV[at], 'reserved', 0)
  local expire_at = tonumber(ARGV[at + 1])
  if expire_at > 0 then
    redis.call('PEXPIREAT', KEYS[i], expire_at)
  end
end
redis.call('SET', KEYS[1], '1')
return 1

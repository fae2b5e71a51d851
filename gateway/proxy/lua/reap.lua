-- reap.lua: charge a reservation whose deadline passed at its estimate (its
-- proxy died or hung), and leave a tombstone so a late settlement adds nothing.
-- load_script('budget_counters', 'reap')
--
-- KEYS[1] sel:{org}:resv  KEYS[2] sel:{org}:resv:deadlines
-- KEYS[3] sel:{org}:reaped:<request id>
-- KEYS[4 ..]  the reservation's counters (the reaper reads its labels first)
-- ARGV[1] request id  ARGV[2] now_ms  ARGV[3] tombstone lifetime, ms
--
-- Returns the nano-USD charged, 0 if the reservation is gone (settled meanwhile),
-- or -1 if its deadline has not passed (it was read while still live).

local request_id, now_ms = ARGV[1], tonumber(ARGV[2])
local amount, deadline = budget_reservation(KEYS[1], request_id)
if not amount then
  redis.call('ZREM', KEYS[2], request_id)
  return 0
end
if deadline > now_ms then
  return -1
end
for i = 4, #KEYS do
  budget_settle(KEYS[i], amount, amount)
end
budget_forget(KEYS[1], KEYS[2], request_id)
redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
return amount

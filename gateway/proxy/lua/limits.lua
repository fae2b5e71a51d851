-- limits.lua: check a plan of rate limits and take from every one of them, or
-- from none (limits alone; admit.lua does the same together with a budget
-- reservation).
-- load_script('sliding_window', 'token_bucket', 'limit_plan', 'limits')
--
-- KEYS[i]       limit i's hash (gateway.proxy.limits.Limit.redis_key); all of one org
-- ARGV[1]       now_ms, the caller's clock
-- ARGV[2]       the plan: JSON [[kind, window_ms, limit, cost], ...] (limit_plan.lua)
--
-- Returns {0, 0} when every limit admitted the cost and it was taken from all.
-- Otherwise {i, retry_ms} naming the limit that keeps the request out longest,
-- retry_ms > 0 ms from now or -1 if it never fits (cost above the limit), and
-- nothing was taken: every check runs before any write, so a rejected request
-- is not counted anywhere.

local now_ms = tonumber(ARGV[1])
local plan = cjson.decode(ARGV[2])
local worst, worst_retry = limits_check(1, plan, now_ms)
if worst ~= 0 then
  return {worst, worst_retry}
end
limits_take(1, plan, now_ms)
return {0, 0}

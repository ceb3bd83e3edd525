-- GCRA step for one portal and limit, shared by every Conturs process (DESIGN §4).
-- Mirrors `budget::policy::gcra`. Times are microseconds of the Redis server clock, so the
-- processes' own clocks never matter.
-- KEYS[1]  the TAT key
-- ARGV[1]  emission interval (µs)
-- ARGV[2]  capacity of the caller's lane (emission intervals the TAT may run ahead)
-- ARGV[3]  penalty (µs): when > 0, push the TAT to now + penalty instead of taking a slot
-- Returns {1, 0} when admitted, {0, wait_us} when refused.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local penalty = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if penalty > 0 then
  local pushed = now + penalty
  if pushed > tat then
    redis.call('SET', KEYS[1], string.format('%d', pushed), 'PX', math.ceil(penalty / 1000) + 1000)
  end
  return {1, 0}
end
local new_tat = tat + emission
local allow_at = new_tat - capacity * emission
if allow_at > now then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {1, 0}

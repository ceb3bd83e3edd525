-- KEYS[1]: the task data hash
-- KEYS[2]: the metadata prefix (e.g. "task_meta")
-- KEYS[3]: the done tasks set   (CONTURS PATCH)
-- KEYS[4]: the dead tasks set   (CONTURS PATCH)
-- ARGV[1]: duration in seconds

local terminal_statuses = {
  Done = true,
  Failed = true,
  Killed = true
}

local result_hash = KEYS[2] .. ":result"
local cutoff = redis.call("TIME")[1] - tonumber(ARGV[1])
local deleted = 0

-- CONTURS PATCH: HKEYS, not HGETALL: the payloads are not needed, only the ids.
local task_ids = redis.call("hkeys", KEYS[1])

for _, task_id in ipairs(task_ids) do
  local meta_key = KEYS[2] .. ':' .. task_id

  local status = redis.call("hget", meta_key, "status")
  local done_at = redis.call("hget", meta_key, "done_at")

  if status and terminal_statuses[status] and done_at then
    if tonumber(done_at) <= cutoff then
      redis.call("hdel", KEYS[1], task_id)
      redis.call("hdel", result_hash, task_id)
      redis.call("del", meta_key)
      -- CONTURS PATCH: the done and dead sets grew forever.
      redis.call("srem", KEYS[3], task_id)
      redis.call("srem", KEYS[4], task_id)
      deleted = deleted + 1
    end
  end
end

return deleted

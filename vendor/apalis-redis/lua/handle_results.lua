-- KEYS[1] =  the worker inflight_set
-- KEYS[2] = done_jobs_set
-- KEYS[3] = dead_jobs_set
-- KEYS[4] = scheduled_jobs_set
-- KEYS[5] = job_meta_hash
-- ARGV[1] = emit events
-- ARGV[2..] = repeating groups of: task_id, timestamp, result_data, status, attempt
local inflight_set = KEYS[1]
local done_jobs_set = KEYS[2]
local dead_jobs_set = KEYS[3]
local scheduled_jobs_set = KEYS[4]
local job_meta_hash = KEYS[5]
local emit_events = ARGV[1] == "1"

-- CONTURS PATCH: a task's own max_attempts, from its metadata (25 when absent, as upstream).
local function max_attempts_of(task_id)
    local value = redis.call('HGET', job_meta_hash .. ':' .. task_id, 'max_attempts')
    return tonumber(value) or 25
end

-- CONTURS PATCH: how many times the task has been delivered, this run included; fetch_next.lua
-- counts each delivery in the task's meta field `conturs_runs`.
local function runs_of(task_id)
    local value = redis.call('HGET', job_meta_hash .. ':' .. task_id, 'conturs_runs')
    return tonumber(value) or 1
end

local args_per_task = 5
local num_tasks = (#ARGV - 1) / args_per_task
local acked = 0

for i = 0, num_tasks - 1 do
    local base = (i * args_per_task + 1)
    local task_id = ARGV[base + 1]
    local timestamp = ARGV[base + 2]
    local result_data = ARGV[base + 3]
    local status = ARGV[base + 4]
    local attempt = ARGV[base + 5]

    local removed = redis.call('SREM', inflight_set, task_id)
    if removed == 0 then
        error("task not executed by worker")
    end

    if status == 'Done' then
        redis.call('SADD', done_jobs_set, task_id)
        if emit_events then
            redis.call("publish", "tasks:" .. done_jobs_set, task_id)
        end

    elseif (status == 'Failed' or status == 'Pending') and runs_of(task_id) < max_attempts_of(task_id) then
        -- CONTURS PATCH: honour the task's max_attempts (upstream hard-coded 25) and back off
        -- exponentially (1 s, 2 s, 4 s… capped at 10 min) instead of attempt seconds. Runs are
        -- counted per delivery by fetch_next.lua, because apalis' own attempt number is not a run count.
        local delay = math.min(600, 2 ^ (runs_of(task_id) - 1))
        redis.call("zadd", scheduled_jobs_set, tonumber(timestamp) + delay, task_id)
        if emit_events then
            redis.call("publish", "tasks:" .. scheduled_jobs_set .. ':retry', task_id)
        end
    else
        redis.call('SADD', dead_jobs_set, task_id)
        if emit_events then
            redis.call("publish", "tasks:" .. dead_jobs_set, task_id)
        end
    end

    local meta_key = job_meta_hash .. ':' .. task_id
    redis.call('HSET', meta_key, 'result', result_data, 'status', status, 'attempts', attempt, 'done_at', timestamp)

    acked = acked + 1
end

return acked

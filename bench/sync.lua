-- wrk script: each request forwards one new event (one row through the group-commit writer).
-- Ids are valid UUIDv7s, unique per thread, per request and per run.
local counter = 0
local thread_no = 0
local salt = 0

function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
end

function init(args)
  math.randomseed(os.time() + (tid or 0) * 7919)
  salt = math.random(0, 0xfff)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "")

local sites = { "JD", "JD-QX", "JD-JJ", "JD-PD" }

request = function()
  counter = counter + 1
  local id = string.format("01700000-0000-7%03x-8%03x-%012x", salt, (tid or 0) % 0x1000, counter)
  local site = sites[(counter % #sites) + 1]
  local body = string.format(
    '{"events":[{"id":"%s","site":"%s","kind":"screening.recorded","occurred_at":"2020-01-29T09:30:00+08:00","payload":{"decision":"admit","temperature_c":36.5}}]}',
    id, site)
  return wrk.format(nil, "/api/v1/sync/events", nil, body)
end

done = function(summary, latency, requests)
  io.write(string.format("non-2xx or errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

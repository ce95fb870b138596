-- wrk script: each request records one door reading (POST /api/v1/screenings), as the
-- checkpoint page sends it: a bearer token and its own Idempotency-Key.
local counter = 0
local thread_no = 0
local salt = 0

function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
end

function init(args)
  math.randomseed(os.time() + (tid or 0) * 7919)
  salt = math.random(0, 0xffffff)
end

local token = "Bearer " .. (os.getenv("TOKEN") or "")

local sites = { "JD", "JD-QX", "JD-JJ", "JD-PD" }

request = function()
  counter = counter + 1
  local site = sites[(counter % #sites) + 1]
  local body = string.format(
    '{"site":"%s","subject_kind":"citizen","temperature_c":36.%d,"mask":true}',
    site, counter % 10)
  -- wrk.format takes these headers instead of wrk.headers: name them all.
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = token,
    ["Idempotency-Key"] = string.format("bench-%x-%d-%d", salt, tid or 0, counter),
  }
  return wrk.format("POST", "/api/v1/screenings", headers, body)
end

done = function(summary, latency, requests)
  io.write(string.format("non-2xx or errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

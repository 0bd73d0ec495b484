-- wrk script for bench/bench_api.py: GET or POST one path with the given headers; POST bodies
-- carry a GTIN no other request of the run uses (thread id and counter, GS1 check digit), so
-- every create succeeds. Prints one JSON line with the figures the bench reads.
--   wrk ... -s wrk.lua <url> -- <GET|POST> <path> <run number> [header]...

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local function check_digit(body)
  local sum = 0
  local weight = 3
  for i = #body, 1, -1 do
    sum = sum + tonumber(body:sub(i, i)) * weight
    weight = 4 - weight
  end
  return tostring((10 - sum % 10) % 10)
end

function init(args)
  method = args[1]
  path = args[2]
  offset = tonumber(args[3])
  headers = { ["Content-Type"] = "application/json" }
  for i = 4, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
end

function request()
  if method ~= "POST" then
    return wrk.format("GET", path, headers)
  end
  counter = counter + 1
  -- run k: indicator digit 1 + k // 33, then 409, then 9 digits unique within the run
  local run = offset
  local body13 = string.format("%d409%09d", 1 + math.floor(run / 33),
    (run % 33) * 30000000 + id * 10000000 + counter)
  local gtin = body13 .. check_digit(body13)
  local body = '{"gtin":"' .. gtin .. '","name":"Bench catheter ' .. gtin ..
    '","tracking_level":"lot","storage_class":"ambient","unit_of_measure":"EA"}'
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"status_errors":%d,"socket_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.status, e.connect + e.read + e.write, e.timeout))
end

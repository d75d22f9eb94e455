-- Shared by every scenario: the bearer token from the environment, and one JSON line at the end
-- with what the Python driver reports (wrk's own text output is not meant for parsing).
local common = {}

function common.authorise()
  local token = os.getenv("BENCH_TOKEN")
  if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
end

-- Give each thread its number, so scripts can split work between threads.
local threads = 0
function common.setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

function common.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "socket_errors": %d, "non_2xx": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end

-- Lines of a file, for scripts that cycle through ids.
function common.lines(path)
  local found = {}
  for line in io.lines(path) do
    if line ~= "" then found[#found + 1] = line end
  end
  return found
end

return common

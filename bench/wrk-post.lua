-- `make bench-serve`'s wrk script: POSTs generated Auth0 post-login events to /v1/decide, cycling through them.
--
--     ROLECALL_SECRET=... [WRK_MEAN_DELAY_MS=D] wrk -t1 -c64 -d10s -s bench/wrk-post.lua URL -- EVENTS.jsonl [COUNT]
--
-- EVENTS.jsonl holds one event per line; the first COUNT (default 4000) are sent, each thread starting at its own
-- offset. With WRK_MEAN_DELAY_MS set and positive, every connection paces itself: before each request it waits a
-- random time between 0 and twice D milliseconds (mean D), so that the connections do not fire in step. At the end
-- one line `wrk-result {json}` gives the requests, the rate and the latency percentiles in microseconds.

local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("thread_id", thread_count)
end

local requests_text = {}
local next_index = 1

function init(args)
   local path = args[1]
   local count = tonumber(args[2] or "4000")
   local secret = os.getenv("ROLECALL_SECRET") or ""
   local headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. secret,
   }
   local file = assert(io.open(path, "r"), "cannot read " .. tostring(path))
   for line in file:lines() do
      if #requests_text >= count then break end
      if #line > 0 then
         table.insert(requests_text, wrk.format("POST", "/v1/decide", headers, line))
      end
   end
   file:close()
   assert(#requests_text > 0, "no events in " .. path)
   -- Threads start at different places in the list, so they do not send the same event at the same time.
   local id = tonumber(thread_id or 1)
   next_index = ((id - 1) * 997) % #requests_text + 1
   math.randomseed(id * 7919)
end

function request()
   local text = requests_text[next_index]
   next_index = next_index % #requests_text + 1
   return text
end

-- wrk decides whether a script paces (has a `delay` function) before any thread's init sees the arguments, and
-- a delay of 0 still costs a timer per request, so the pacing comes from the environment and `delay` exists only
-- when it is asked for. wrk truncates the delay to whole milliseconds, so it is rounded here to keep the mean.
local mean_delay = tonumber(os.getenv("WRK_MEAN_DELAY_MS") or "0")
if mean_delay > 0 then
   function delay()
      return math.floor(math.random() * 2 * mean_delay + 0.5)
   end
end

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local errors = summary.errors
   print(string.format(
      'wrk-result {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,'
         .. '"mean_us":%.1f,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d}',
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end

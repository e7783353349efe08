-- wrk script of bench/run.py: one scenario per run, real tokens, randomised over seeded ids.
--
--   wrk -t2 -c16 -d10s --latency -s bench/wrk/bench.lua http://127.0.0.1:PORT -- <data.lua> <scenario>
--
-- <data.lua> (written by bench/run.py) returns a table: tokens (bearer tokens of seeded users of the measured
-- customer), project (the measured project), issue_ids (a sample of its issues), write_project (a project of the
-- same customer that takes every write, so the measured data never changes), put_issues ({id, version} pairs in
-- write_project, versions current when the run starts), rare/common (search terms), deep_offset, threads.
--
-- done() prints one line "BENCH_WRK {json}" with wrk's own counts and latency distribution (microseconds).
-- wrk counts a response with status >= 400 as a status error; routes here answer 2xx or 4xx/5xx, never 3xx.

local threads = {}
local started = 0

function setup(thread)
  thread:set("index", started)
  started = started + 1
  table.insert(threads, thread)
end

local data, builder
local free, versions = {}, {} -- PUT: this thread's issues not in flight, and their current versions
put_unmatched = 0 -- PUT responses that named none of this thread's issues
put_starved = 0 -- PUTs sent while every issue of the thread was in flight (cannot happen unless responses are lost)

local function pick(list)
  return list[math.random(#list)]
end

local function escape(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function auth()
  return { ["Authorization"] = "Bearer " .. pick(data.tokens) }
end

local function json_headers()
  local h = auth()
  h["Content-Type"] = "application/json"
  return h
end

local function issues_path(project)
  return "/v1/projects/" .. project .. "/issues"
end

local NEW_ISSUE = '{"subject":"Bench issue","content":"Filed by the benchmark","severity":"medium",'
  .. '"category":"task","labels":["bench"]}'

local scenarios = {}

scenarios.healthz = function()
  return wrk.format("GET", "/healthz")
end

scenarios.get_issue = function()
  return wrk.format("GET", issues_path(data.project) .. "/" .. pick(data.issue_ids), auth())
end

scenarios.list_first = function()
  return wrk.format("GET", issues_path(data.project) .. "?limit=50", auth())
end

scenarios.list_deep = function()
  return wrk.format("GET", issues_path(data.project) .. "?limit=50&offset=" .. data.deep_offset, auth())
end

scenarios.search_rare = function()
  return wrk.format("GET", issues_path(data.project) .. "?limit=50&q=" .. escape(data.rare), auth())
end

scenarios.search_common = function()
  return wrk.format("GET", issues_path(data.project) .. "?limit=50&q=" .. escape(data.common), auth())
end

scenarios.post_issue = function()
  return wrk.format("POST", issues_path(data.write_project), json_headers(), NEW_ISSUE)
end

-- POST issue with an Idempotency-Key, a new one each request (unique across runs and threads): what keeping the
-- response for retries costs a write (exitus/idempotency.py).
local keys_sent = 0
scenarios.post_issue_keyed = function()
  keys_sent = keys_sent + 1
  local headers = json_headers()
  headers["Idempotency-Key"] = string.format("bench-%d-%d-%d-%d", os.time(), index, keys_sent, math.random(1000000000))
  return wrk.format("POST", issues_path(data.write_project), headers, NEW_ISSUE)
end

scenarios.post_comment = function()
  local issue = pick(data.put_issues)[1]
  return wrk.format("POST", issues_path(data.write_project) .. "/" .. issue .. "/comments", json_headers(),
    '{"content":"A comment from the benchmark"}')
end

-- PUT: each wrk thread owns its own issues (put_issues split by thread index) and sends a PUT only for one not in
-- flight, with the version its last response returned, so no PUT is stale (a 409 would void the run).
scenarios.put_issue = function()
  local id = table.remove(free)
  if id == nil then
    put_starved = put_starved + 1
    id = pick(data.put_issues)[1]
  end
  local body = '{"subject":"Bench update ' .. math.random(1000000) .. '","content":"Updated by the benchmark",'
    .. '"severity":"high","category":"bug","labels":["bench"],"version":' .. (versions[id] or 1) .. '}'
  return wrk.format("PUT", issues_path(data.write_project) .. "/" .. id, json_headers(), body)
end

-- The read-heavy mix: 90 % reads, 10 % writes, drawn per request.
local MIX = {
  { 60, scenarios.get_issue },
  { 20, scenarios.list_first },
  { 10, scenarios.search_rare },
  { 5, scenarios.post_issue },
  { 5, scenarios.post_comment },
}

scenarios.mix = function()
  local draw = math.random(100)
  for _, entry in ipairs(MIX) do
    draw = draw - entry[1]
    if draw <= 0 then
      return entry[2]()
    end
  end
end

local function put_response(status, headers, body)
  local id = body and string.match(body, '"id"%s*:%s*"([%x%-]+)"')
  local version = body and string.match(body, '"version"%s*:%s*(%d+)')
  if status == 200 and id and versions[id] then
    versions[id] = tonumber(version)
    table.insert(free, id)
  else
    put_unmatched = put_unmatched + 1
  end
end

function init(args)
  data = dofile(args[1])
  local name = args[2]
  builder = scenarios[name]
  if builder == nil then
    error("unknown scenario " .. tostring(name))
  end
  math.randomseed(os.time() * 1000 + index)
  if name == "put_issue" then
    for number, pair in ipairs(data.put_issues) do
      if (number - 1) % data.threads == index then
        versions[pair[1]] = pair[2]
        table.insert(free, pair[1])
      end
    end
    response = put_response -- defined only here: wrk parses response bodies only when a script asks for them
  end
end

function request()
  return builder()
end

function done(summary, latency, requests)
  local unmatched, starved = 0, 0
  for _, thread in ipairs(threads) do
    unmatched = unmatched + (thread:get("put_unmatched") or 0)
    starved = starved + (thread:get("put_starved") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_WRK {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d},'
      .. '"put_unmatched":%d,"put_starved":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9),
    unmatched, starved))
end

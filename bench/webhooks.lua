-- Signed Jira deliveries for wrk: a few pre-signed bodies (the signature covers the body only) and a
-- new X-Atlassian-Webhook-Identifier on every request, so each request is a new delivery to store.
-- bench_webhooks.py writes bench_webhooks_bodies.lua next to the run with `path` and `bodies`.
-- Arguments after `--`: the bodies file, then a run id that keeps ids unique across runs.
local counter = 0
local next_thread = 0

setup = function(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end

init = function(args)
  dofile(args[1])
  prefix = args[2] .. "-" .. thread_id .. "-"
end

request = function()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["X-Hub-Signature"] = body.signature,
    ["X-Atlassian-Webhook-Identifier"] = prefix .. counter,
  }, body.body)
end

-- Workload (b'), "fresh": the 2 KB form POST of post.lua, but every request carries its own CSRF token
-- (same length, so the body stays 2048 bytes): no request repeats a body for a per-value memo to serve.
-- See get-fresh.lua.
local dir = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
dofile(dir .. 'post.lua')
local fresh = dofile(dir .. 'fresh-id.lua')
local body = wrk.body

request = function()
  -- 'csrftoken=' + 32 characters, replaced by 32 hex digits unique to this thread and request.
  local token = fresh.next()
  local fresh_body = body:gsub('csrftoken=Zx81TqLmNo4PqRsTuVwXyZ0123456789', 'csrftoken=' .. token, 1)
  return wrk.format(nil, nil, nil, fresh_body)
end

-- Workload (b'), "fresh": the 2 KB form POST of post.lua, but every request carries its own CSRF token
-- and delivery note number (same length, so the body stays 2048 bytes): nothing repeats across requests
-- for a per-value memo to serve. See get-fresh.lua.
local dir = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
dofile(dir .. 'post.lua')
local body = wrk.body
local counter = 0
-- wrk runs setup() once per thread in the main Lua state; thread:set makes `tid` a global of that
-- thread's own state, so the threads' values never collide.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set('tid', threads)
end

request = function()
  counter = counter + 1
  -- 'csrftoken=' + 32 characters, replaced by 32 hex digits unique to this thread and request.
  local token = string.format('%08x%08x%016x', tid, counter, counter * 2654435761 % 0xffffffffffff)
  local fresh = body:gsub('csrftoken=Zx81TqLmNo4PqRsTuVwXyZ0123456789', 'csrftoken=' .. token, 1)
  return wrk.format(nil, nil, nil, fresh)
end

-- Shared by the -fresh workloads: numbers wrk's threads and hands out values no other request repeats.
-- wrk runs setup() once per thread in the main Lua state; thread:set makes `tid` a global of that thread's
-- own state, so two threads never produce the same value.
local fresh = {}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set('tid', threads)
end

local counter = 0
-- 32 hex digits unique to this thread and request, and the request's number within the thread.
function fresh.next()
  counter = counter + 1
  return string.format('%08x%08x%016x', tid, counter, counter * 2654435761 % 0xffffffffffff), counter
end

return fresh

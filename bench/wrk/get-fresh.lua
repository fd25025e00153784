-- Workload (a'), "fresh": the browser-like GET of get.lua, but every request carries its own session
-- cookie and search term, as requests from many different users would. A WAF that remembers answers per
-- value (Portcullis' engine does, bounded) cannot serve these from memory; the fixed workloads repeat
-- every byte and so show the best case. The per-request Lua costs wrk a little CPU on every target alike.
local dir = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
dofile(dir .. 'get.lua')
local fresh = dofile(dir .. 'fresh-id.lua')
local base_cookie = wrk.headers['Cookie']:gsub('^sessionid=%x+; ', '')

request = function()
  local id, n = fresh.next()
  wrk.headers['Cookie'] = 'sessionid=' .. id .. '; ' .. base_cookie
  local path = '/shop/search?q=red+running+shoes+' .. n .. '&category=footwear&size=42&page=2&sort=price_asc&utm_source=newsletter'
  return wrk.format(nil, path)
end

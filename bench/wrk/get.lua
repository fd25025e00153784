-- Workload (a): a browser-like page view. A query string, cookies and the headers a current desktop
-- Chrome sends. The request is fixed, so wrk builds it once and every connection replays the same
-- bytes (no per-request Lua work skews the client side).
local dir = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local report = dofile(dir .. 'report.lua')

wrk.method = 'GET'
wrk.path = '/shop/search?q=red+running+shoes&category=footwear&size=42&page=2&sort=price_asc&utm_source=newsletter'
wrk.headers['Host'] = 'shop.example.com'
wrk.headers['User-Agent'] = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'
wrk.headers['Accept'] = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'
wrk.headers['Accept-Language'] = 'en-GB,en;q=0.9,de;q=0.8'
wrk.headers['Accept-Encoding'] = 'gzip, deflate, br'
wrk.headers['Referer'] = 'https://shop.example.com/shop/category/footwear?page=1'
wrk.headers['Cookie'] = 'sessionid=8f14e45fceea167a5a36dedd4bea2543; csrftoken=Zx81TqLmNo4PqRsTuVwXyZ0123456789; ' ..
  'cart=3; _ga=GA1.2.1234567890.1700000000; consent=analytics%3Dtrue%26ads%3Dfalse; lang=en'
wrk.headers['Upgrade-Insecure-Requests'] = '1'
wrk.headers['Sec-Fetch-Dest'] = 'document'
wrk.headers['Sec-Fetch-Mode'] = 'navigate'
wrk.headers['Sec-Fetch-Site'] = 'same-origin'
wrk.headers['Sec-Fetch-User'] = '?1'

done = report.done

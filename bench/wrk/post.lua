-- Workload (b): a 2 KB application/x-www-form-urlencoded POST (a checkout form). The body is benign
-- for the OWASP CRS at every paranoia level we run, so WAF targets do the full inspection and pass it.
local dir = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local report = dofile(dir .. 'report.lua')

local BODY_BYTES = 2048

-- A checkout form: 22 short fields and a free-text delivery note that fills the body to 2 KB.
local fields = {
  'csrftoken=Zx81TqLmNo4PqRsTuVwXyZ0123456789',
  'first_name=Alice', 'last_name=Lindqvist', 'email=alice.lindqvist%40example.com',
  'phone=%2B46701234567', 'street=Storgatan+12', 'city=Uppsala', 'postcode=75320', 'country=SE',
  'billing_same=1', 'shipping=standard', 'gift_wrap=no', 'newsletter=yes',
  'coupon=SPRING24', 'payment=card', 'card_holder=Alice+Lindqvist', 'card_last4=4242',
  'item_1=SKU100721', 'qty_1=1', 'item_2=SKU100935', 'qty_2=2', 'terms=accepted',
}
local body = table.concat(fields, '&')
-- Plain words only, so that no CRS rule at any paranoia level has a reason to match the note.
local words = { 'please', 'leave', 'the', 'parcel', 'with', 'the', 'neighbour', 'at', 'number', 'fourteen',
  'if', 'nobody', 'is', 'home', 'during', 'the', 'day', 'and', 'ring', 'twice', 'thank', 'you' }
local note = {}
local len = #body + #'&delivery_note='
local w = 0
while true do
  local word = words[(w % #words) + 1]
  local add = (w == 0) and #word or (#word + 1)
  if len + add > BODY_BYTES then break end
  note[#note + 1] = word
  len = len + add
  w = w + 1
end
body = body .. '&delivery_note=' .. table.concat(note, '+')
-- Pad with the last word's letters so every target parses exactly BODY_BYTES.
body = body .. string.rep('s', BODY_BYTES - #body)
assert(#body == BODY_BYTES, 'post body is ' .. #body .. ' bytes')

wrk.method = 'POST'
wrk.path = '/shop/checkout?step=confirm'
wrk.body = body
wrk.headers['Host'] = 'shop.example.com'
wrk.headers['User-Agent'] = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'
wrk.headers['Accept'] = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
wrk.headers['Accept-Language'] = 'en-GB,en;q=0.9'
wrk.headers['Accept-Encoding'] = 'gzip, deflate, br'
wrk.headers['Content-Type'] = 'application/x-www-form-urlencoded'
wrk.headers['Origin'] = 'https://shop.example.com'
wrk.headers['Referer'] = 'https://shop.example.com/shop/checkout?step=address'
wrk.headers['Cookie'] = 'sessionid=8f14e45fceea167a5a36dedd4bea2543; csrftoken=Zx81TqLmNo4PqRsTuVwXyZ0123456789; cart=3; lang=en'

done = report.done

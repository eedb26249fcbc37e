-- wrk script for shopguard's POST /v1/transactions: a second opinion on
-- throughput next to loadtx. wrk is CLOSED-LOOP: each connection sends its
-- next request only after the previous answer, so it measures the capacity
-- at a given concurrency (-c), and its latencies suffer from coordinated
-- omission (a slow answer delays the requests that would have been sent
-- meanwhile). Use loadtx for latency at a fixed arrival rate.
--
--   LOADTX_KEY=sg_... RUN_ID=w1 wrk -t2 -c64 -d30s --latency \
--     -s bench/wrk/transactions.lua http://127.0.0.1:8080/v1/transactions
--
-- Environment: LOADTX_KEY (API key, required), RUN_ID (id prefix; ids are
-- RUN_ID-thread-seq and so unique per run), SEED (default 1), CUSTOMERS
-- (default 50000).
-- The traffic follows loadtx's mix in a simpler form: a population of
-- customers with 1-3 cards, devices and IPs each, some throw-away e-mail
-- domains, log-normal amounts, 1-5 items, and a card-testing burst (30
-- attempts, one device, a new card each, amounts under 5) every 2500
-- requests per thread.

local run_id = os.getenv("RUN_ID") or ("wrk" .. os.time())
local key = os.getenv("LOADTX_KEY")
local seed = tonumber(os.getenv("SEED") or "1")
local customers = tonumber(os.getenv("CUSTOMERS") or "50000")

local threads = {}
local next_tid = 1

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local countries = { "DE", "DE", "DE", "FR", "FR", "US", "US", "GB", "GB", "NL", "ES", "IT", "PL", "SE" }
local currency_of = { DE = "EUR", FR = "EUR", NL = "EUR", ES = "EUR", IT = "EUR", US = "USD", GB = "GBP", PL = "PLN", SE = "SEK" }
local fx = { EUR = 1, USD = 1.1, GBP = 0.85, PLN = 4.3, SEK = 11.2 }
local domains = { "gmail.com", "gmail.com", "gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com",
  "gmx.de", "web.de", "proton.me", "orange.fr", "example-corp.com" }
local disposable = { "mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com", "trashmail.com" }
local bins = { "453201", "492980", "411773", "516732", "542418", "552742", "601100", "400022", "535522" }
local methods = { "card", "card", "card", "card", "card", "card", "card", "card", "paypal", "wallet" }
local products = { "T-shirt", "Sneakers", "Headphones", "Coffee beans 1kg", "Phone case", "Backpack", "Book", "Desk lamp" }

-- seq, statuses and actions are per-thread globals (done() reads them with thread:get).
seq, statuses, actions = 0, {}, {}
local body_fmt = '{"id":"%s","created_at":"%s","amount_minor":%d,"currency":"%s",%s"ip":"%s","device_id":"%s",' ..
  '"user_agent":"wrk-bench/1.0","payment":%s,"billing_address":%s,"shipping_address":%s,"items":[%s]}'

function init(args)
  if not key or key == "" then
    error("set LOADTX_KEY to an API key")
  end
  math.randomseed(seed * 1000003 + tid * 7919)
  seq = 0
  statuses = {}
  actions = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

local function lognormal(median, sigma)
  local u1, u2 = math.random(), math.random()
  local z = math.sqrt(-2 * math.log(u1 + 1e-12)) * math.cos(2 * math.pi * u2)
  return median * math.exp(sigma * z)
end

local function address(c, country)
  return string.format('{"line1":"%d Main Street","city":"City%d","postal_code":"%05d","country":"%s"}',
    c % 250 + 1, c % 97, c % 100000, country)
end

local function items(amount)
  local n = math.random(1, 5)
  if amount < 500 then n = 1 end
  local parts = {}
  local each = math.max(1, math.floor(amount * 0.9 / n))
  for i = 1, n do
    parts[i] = string.format('{"sku":"SKU-%05d","name":"%s","price_minor":%d,"quantity":1}',
      math.random(0, 19999), products[math.random(#products)], each)
  end
  return table.concat(parts, ",")
end

function request()
  seq = seq + 1
  local id = string.format("%s-%d-%d", run_id, tid, seq)
  local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local burst = math.floor(seq / 2500)
  if seq % 2500 < 30 then
    -- card testing: one device and /24 per burst, a new card each attempt
    local card = string.format('{"method":"card","card_fingerprint":"fp_ctw%d_%d_%d","bin":"%s","last4":"%04d"}',
      tid, burst, seq, bins[math.random(#bins)], math.random(0, 9999))
    local addr = address(burst, "US")
    local amount = math.random(50, 499)
    return wrk.format(nil, nil, nil, string.format(body_fmt, id, now, amount, "USD",
      string.format('"user":{"email":"ct%d.%d@%s"},', tid, burst, disposable[burst % #disposable + 1]),
      string.format("185.%d.%d.%d", 11 + tid, burst % 256, 10 + seq % 3),
      string.format("dev_ctw_%d_%d", tid, burst), card, addr, addr, items(amount)))
  end
  local c = math.random(customers)
  local country = countries[c % #countries + 1]
  local cur = currency_of[country]
  local domain = domains[(c * 7) % #domains + 1]
  if c % 33 == 0 then domain = disposable[c % #disposable + 1] end
  local user = string.format('"user":{"id":"cus_%07d","email":"shopper%07d@%s","created_at":"2024-01-01T00:00:00Z"},', c, c, domain)
  local k = 1
  if math.random() < 0.3 then k = 1 + c % 3 end
  local amount = math.max(50, math.floor(lognormal(45, 0.9) * fx[cur] * 100))
  local method = methods[math.random(#methods)]
  local pay = string.format('{"method":"%s"}', method)
  if method == "card" then
    pay = string.format('{"method":"card","card_fingerprint":"fp_%08x_%d","bin":"%s","last4":"%04d","card_country":"%s"}',
      c, k, bins[c % #bins + 1], (c * 31 + k) % 10000, country)
  end
  local ip = string.format("%d.%d.%d.%d", 2 + (c * 37) % 98, (c * 11) % 256, (c * 13 + k) % 256, 1 + c % 254)
  local addr = address(c, country)
  return wrk.format(nil, nil, nil, string.format(body_fmt, id, now, amount, cur, user, ip,
    string.format("dev_%08x_%d", c, k), pay, addr, addr, items(amount)))
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then
    local a = string.match(body, '"action":"(%a+)"')
    if a then actions[a] = (actions[a] or 0) + 1 end
  end
end

local function merge(into, t)
  for k, v in pairs(t) do into[k] = (into[k] or 0) + v end
end

local function json_map(t)
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = string.format('"%s":%d', tostring(k), v) end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local st, ac = {}, {}
  for _, t in ipairs(threads) do
    merge(st, t:get("statuses") or {})
    merge(ac, t:get("actions") or {})
  end
  local e = summary.errors
  local ms = function(us) return us / 1000 end
  io.write(string.format('WRKJSON {"requests":%d,"duration_s":%.3f,"ok":%d,"throughput_ok_per_s":%.1f,' ..
    '"status_codes":%s,"actions":%s,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_ms":{"mean":%.3f,"p50":%.3f,"p90":%.3f,"p99":%.3f,"p99_9":%.3f,"max":%.3f}}\n',
    summary.requests, summary.duration / 1e6, st[200] or 0, (st[200] or 0) / (summary.duration / 1e6),
    json_map(st), json_map(ac), e.connect, e.read, e.write, e.status, e.timeout,
    ms(latency.mean), ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency:percentile(99.9)), ms(latency.max)))
end

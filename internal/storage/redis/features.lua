-- The feature store's script: features.Memory's semantics (see its doc
-- comment), one key per feature key, run atomically where the key lives.
-- features.go documents the arguments and the answer.
--
-- A key's value is its state, packed with cmsgpack:
--   fs, fn  first seen: unix seconds and nanoseconds within the second
--   ls, ln  latest observation, likewise
--   hd      history window in days (0: none), fixed when the key is made
--   b       per window (1..5) its buckets as a flat list idx, n, sum, ...
--           sorted by idx
--   k       per slot (1..8) its dimension kind; free slots are absent
--   v       per slot a map from value hash to {first, last, reg, rank}
--           (absent when it has none)
--   s       per slot its sketch, when the slot is sketched:
--           {base, maxTs, p, r = map reg -> flat list time, rank, ...}
--   d       history: map day -> observations
--   t, tas, tan  tag and its time
-- Lua numbers are doubles: times stay in seconds plus nanoseconds.

local LV = { {5, 12}, {60, 60}, {900, 96}, {3600, 168}, {21600, 120} } -- granularity (s), buckets
local RET = 30 * 86400 + 6 * 3600 -- features.Retention in seconds
local DAY = 86400
local SLOTS = 8 -- features.MaxDimKinds
local PAIRS = 6 -- sketchSlots
local OFFMASK = 67108863 -- 1<<26 - 1
local HASHBITS = 61

local sec, nsec = tonumber(ARGV[1]), tonumber(ARGV[2])
local op = ARGV[3]
local cap, prec = tonumber(ARGV[4]), tonumber(ARGV[5])

-- later(as, an, bs, bn): a > b for (seconds, nanoseconds) times.
local function later(as, an, bs, bn) return as > bs or (as == bs and an > bn) end

-- idle reports whether time a is more than lim seconds after time b.
local function idle(as, an, bs, bn, lim)
  local d = as - bs
  return d > lim or (d == lim and an > bn)
end

local function bounds(l, b)
  local lv = LV[l]
  return math.max(b - lv[2] + 1, 0) * lv[1], (b + 1) * lv[1] - 1
end

-- B, LO and HI give per window the bucket of the event time and the
-- window's first and last second.
local B, LO, HI = {}, {}, {}
for l = 1, 5 do
  B[l] = math.floor(sec / LV[l][1])
  LO[l], HI[l] = bounds(l, B[l])
end

-- Windows -------------------------------------------------------------

-- add records amount in bucket b of window l; false when b is older than
-- the ring keeps.
local function add(S, l, b, amount)
  local bk = S.b[l]
  local n = LV[l][2]
  local len = #bk
  if len == 0 then
    bk[1], bk[2], bk[3] = b, 1, amount
    return true
  end
  local head = bk[len - 2]
  if b > head then
    local k = 0
    while k < len and bk[k + 1] <= b - n do k = k + 3 end
    local nb = {}
    for i = k + 1, len do nb[#nb + 1] = bk[i] end
    nb[#nb + 1], nb[#nb + 2], nb[#nb + 3] = b, 1, amount
    S.b[l] = nb
    return true
  end
  if b <= head - n then return false end
  local p = len - 2
  while p >= 1 and bk[p] > b do p = p - 3 end
  if p >= 1 and bk[p] == b then
    bk[p + 1] = bk[p + 1] + 1
    bk[p + 2] = bk[p + 2] + amount
    return true
  end
  table.insert(bk, p + 3, amount)
  table.insert(bk, p + 3, 1)
  table.insert(bk, p + 3, b)
  return true
end

local function window(S, l, b)
  local bk = S.b[l]
  local lo = b - LV[l][2] + 1
  local c, s = 0, 0
  for i = 1, #bk, 3 do
    local idx = bk[i]
    if idx >= lo and idx <= b then
      c = c + bk[i + 1]
      s = s + bk[i + 2]
    end
  end
  return c, s
end

-- Sketches (features/hll.go) ------------------------------------------

local function value(list, lo, hi)
  if list == nil then return 0 end
  for i = 1, #list, 2 do
    local t = list[i]
    if t > hi then break end
    if t >= lo then return list[i + 1] end
  end
  return 0
end

local function victim(sk, buf)
  local n = #buf / 2
  local keep = { [n] = true }
  for l = 1, 5 do
    local lo = bounds(l, math.floor(sk.mt / LV[l][1]))
    for k = 1, n do
      if buf[2 * k - 1] >= lo then
        keep[k] = true
        break
      end
    end
  end
  for k = 1, n do
    if not keep[k] then return k end
  end
  return 1
end

local function insert(sk, j, ts, r)
  local list = sk.r[j] or {}
  local len = #list / 2
  local i = 1
  while i <= len and list[2 * i - 1] < ts do i = i + 1 end
  if i <= len and list[2 * i] >= r then return end
  local buf = {}
  for k = 1, i - 1 do
    if list[2 * k] > r then
      buf[#buf + 1], buf[#buf + 2] = list[2 * k - 1], list[2 * k]
    end
  end
  buf[#buf + 1], buf[#buf + 2] = ts, r
  local k = i
  if k <= len and list[2 * k - 1] == ts then k = k + 1 end
  for x = k, len do
    buf[#buf + 1], buf[#buf + 2] = list[2 * x - 1], list[2 * x]
  end
  if #buf > 2 * PAIRS then
    local v = victim(sk, buf)
    table.remove(buf, 2 * v)
    table.remove(buf, 2 * v - 1)
  end
  sk.r[j] = buf
end

local function rebase(sk, ts)
  local nb = ts - RET
  for j, list in pairs(sk.r) do
    local keep = {}
    for i = 1, #list, 2 do
      if list[i] >= nb then keep[#keep + 1], keep[#keep + 2] = list[i], list[i + 1] end
    end
    if #keep == 0 then sk.r[j] = nil else sk.r[j] = keep end
  end
  sk.base = nb
end

local function skObserve(sk, j, r, ts, head)
  local stale = head - RET
  local isNew = true
  local list = sk.r[j]
  if list ~= nil then
    for i = 1, #list, 2 do
      if list[i + 1] >= r and list[i] >= stale then
        isNew = false
        break
      end
    end
  end
  if ts < sk.base then return isNew end
  if ts - sk.base > OFFMASK then rebase(sk, ts) end
  sk.mt = math.max(sk.mt, ts)
  insert(sk, j, ts, r)
  return isNew
end

local function ertlSigma(x)
  if x == 1 then return math.huge end
  local y, z = 1.0, x
  while true do
    x = x * x
    local zp = z
    z = z + x * y
    y = y + y
    if z == zp then return z end
  end
end

local function ertlTau(x)
  if x == 0 or x == 1 then return 0 end
  local y, z = 1.0, 1 - x
  while true do
    x = math.sqrt(x)
    local zp = z
    y = y * 0.5
    z = z - (1 - x) * (1 - x) * y
    if z == zp then return z / 3 end
  end
end

local function estimate(sk, l)
  local lo, hi = LO[l], HI[l]
  local m = 2 ^ sk.p
  local h = {}
  local nz = 0
  for _, list in pairs(sk.r) do
    local v = value(list, lo, hi)
    if v > 0 then
      h[v] = (h[v] or 0) + 1
      nz = nz + 1
    end
  end
  local q = HASHBITS - sk.p
  local z = m * ertlTau(1 - (h[q + 1] or 0) / m)
  for k = q, 1, -1 do z = 0.5 * (z + (h[k] or 0)) end
  z = z + m * ertlSigma((m - nz) / m)
  local e = m * m / (2 * math.log(2)) / z
  if not (e < 2 ^ 62) then return 2 ^ 62 end
  return math.floor(e + 0.5)
end

local function estimates(sk, mask, out)
  for l = 1, 5 do
    if mask == 0 or math.floor(mask / 2 ^ (l - 1)) % 2 == 1 then out[l] = estimate(sk, l) end
  end
end

-- Distinct values (features/distinct.go) ------------------------------

local function slotActivity(S, s)
  if S.s[s] then return S.s[s].mt end
  local a = -1
  for _, v in pairs(S.v[s] or {}) do a = math.max(a, v[2]) end
  return a
end

-- slotFor returns the slot of kind, claiming a free one or the least
-- recently active one not in busy (the slots of the observation's other
-- kinds).
local function slotFor(S, kind, busy)
  local free = nil
  for s = 1, SLOTS do
    if S.k[s] == kind then return s end
    if S.k[s] == nil and free == nil then free = s end
  end
  if free == nil then
    local best = 2 ^ 62
    for s = 1, SLOTS do
      if not busy[s] then
        local a = slotActivity(S, s)
        if a < best then best, free = a, s end
      end
    end
    S.v[free] = nil
    S.s[free] = nil
  end
  S.k[free] = kind
  return free
end

local function count(v, cnt)
  local f, l = v[1], v[2]
  for w = 1, 5 do
    if (l >= LO[w] and l <= HI[w]) or (f >= LO[w] and f <= HI[w]) then cnt[w] = cnt[w] + 1 end
  end
end

local function toSketch(S, s)
  local head = S.ls
  local sk = { base = math.max(head - RET, 0), mt = 0, p = prec, r = {} }
  local seen = {}
  for h, v in pairs(S.v[s] or {}) do
    seen[#seen + 1] = { v[1], h, v[3], v[4] }
    if v[2] ~= v[1] then seen[#seen + 1] = { v[2], h, v[3], v[4] } end
  end
  table.sort(seen, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  for _, x in ipairs(seen) do skObserve(sk, x[3], x[4], x[1], head) end
  S.v[s] = nil
  S.s[s] = sk
  return sk
end

-- observeDim records one value (hash h, sketch register j and rank r) of
-- slot s and fills res = {isNew, d1..d5} when res is not nil.
local function observeDim(S, s, h, j, r, mask, res)
  local sk = S.s[s]
  if sk then
    local nv = skObserve(sk, j, r, sec, S.ls)
    if res then
      estimates(sk, mask, res.d)
      res.nv = nv
    end
    return
  end
  local stale = S.ls - RET
  local late = sec < stale
  local cnt = { 0, 0, 0, 0, 0 }
  local found, live = nil, 0
  for ss, vals in pairs(S.v) do
    for vh, v in pairs(vals) do
      if v[2] < stale then
        vals[vh] = nil
      elseif ss == s then
        if vh == h then
          found = v
        else
          live = live + 1
          if res then count(v, cnt) end
        end
      end
    end
  end
  if found then
    if not late then
      found[1], found[2] = math.min(found[1], sec), math.max(found[2], sec)
    end
  elseif late then
    -- too old to remember
  elseif live >= cap then
    local nsk = toSketch(S, s)
    skObserve(nsk, j, r, sec, S.ls)
    if res then
      estimates(nsk, mask, res.d)
      res.nv = true
    end
    return
  else
    if S.v[s] == nil then S.v[s] = {} end
    S.v[s][h] = { sec, sec, j, r }
  end
  if res then
    for w = 1, 5 do res.d[w] = cnt[w] + 1 end
    res.nv = (found == nil)
  end
end

local function readDim(S, s)
  local d = { 0, 0, 0, 0, 0 }
  if S.s[s] then
    estimates(S.s[s], 0, d)
    return d
  end
  for _, v in pairs(S.v[s] or {}) do count(v, d) end
  return d
end

-- History (features/history.go) ---------------------------------------

local function history(S, d)
  local c = 0
  for dd, n in pairs(S.d) do
    if dd <= d and dd > d - S.hd then c = c + n end
  end
  return c
end

local function addDay(S, d, latest)
  local n = S.hd
  if d <= latest - n then return false end
  local head = nil
  for dd in pairs(S.d) do
    if head == nil or dd > head then head = dd end
  end
  if head == nil then
    S.d[d] = 1
    return true
  end
  if d > head then
    for dd in pairs(S.d) do
      if dd <= d - n then S.d[dd] = nil end
    end
    S.d[d] = 1
    return true
  end
  if d < head and d <= head - n then return false end
  S.d[d] = (S.d[d] or 0) + 1
  return true
end

-- Keys ----------------------------------------------------------------

local function fresh(hd)
  return { fs = sec, fn = nsec, ls = sec, ln = nsec, hd = hd, b = { {}, {}, {}, {}, {} }, k = {}, v = {}, s = {}, d = {}, t = '', tas = 0, tan = 0 }
end

local function forgetWindows(S)
  S.b = { {}, {}, {}, {}, {} }
  S.k, S.v, S.s = {}, {}, {}
end

local function expired(S, as, an)
  return idle(as, an, S.ls, S.ln, math.max(RET, S.hd * DAY))
end

local states = {} -- key -> state (false: none), as loaded or changed
local dirty = {}  -- keys observed in this call

local function load(key)
  local S = states[key]
  if S ~= nil then return S end
  local raw = redis.call('GET', key)
  if raw then
    -- Empty tables come back as empty tables, maps with integer keys
    -- (slots, days, registers) with the same keys.
    S = cmsgpack.unpack(raw)
  else
    S = false
  end
  states[key] = S
  return S
end

local function sums(S)
  local c, s = {}, {}
  for l = 1, 5 do
    c[l], s[l] = window(S, l, B[l])
  end
  return c, s
end

local function ttl(S)
  return math.max(RET, S.hd * DAY) + DAY
end

-- The answer is one flat array, WIDTH values per key: new (0/1), first
-- seen (s, ns), previous or latest seen (s, ns), history, tag, the five
-- counts, the five sums as one text ("%.17g" each: Redis would truncate a
-- Lua number to an integer), then per dimension position 1..4 whether the
-- value was new and its five distinct counts.
local WIDTH = 37
local out = {}

-- put writes key i's answer but its dimensions (zeroed).
local function put(i, isNew, fs, fn, ps, pn, hist, tag, c, s)
  local o = (i - 1) * WIDTH
  out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5], out[o + 6], out[o + 7] = isNew, fs, fn, ps, pn, hist, tag
  for l = 1, 5 do out[o + 7 + l] = c[l] end
  out[o + 13] = string.format('%.17g %.17g %.17g %.17g %.17g', s[1], s[2], s[3], s[4], s[5])
  for x = o + 14, o + WIDTH do out[x] = 0 end
end

-- putDim writes the dimension at position pos (1..4) of key i.
local function putDim(i, pos, nv, d)
  local o = (i - 1) * WIDTH + 13 + (pos - 1) * 6
  out[o + 1] = nv and 1 or 0
  for w = 1, 5 do out[o + 1 + w] = d[w] end
end

local ZERO = { 0, 0, 0, 0, 0 }

-- readKey writes the answer of the i-th key to Read with dimension kinds.
local function readKey(i, key, kinds)
  local S = load(key)
  if not S or expired(S, sec, nsec) then
    put(i, 1, 0, 0, 0, 0, 0, '', ZERO, ZERO)
    return
  end
  local hist = 0
  if S.hd > 0 then hist = history(S, math.floor(sec / DAY)) end
  if idle(sec, nsec, S.ls, S.ln, RET) then
    put(i, 0, S.fs, S.fn, S.ls, S.ln, hist, S.t, ZERO, ZERO)
    return
  end
  local c, s = sums(S)
  put(i, 0, S.fs, S.fn, S.ls, S.ln, hist, S.t, c, s)
  for x, kind in ipairs(kinds) do
    for s2 = 1, SLOTS do
      if S.k[s2] == kind then
        putDim(i, x, false, readDim(S, s2))
        break
      end
    end
  end
end

local want = (op == 'observe')
local day = math.floor(sec / DAY)

-- observeKey records the i-th observation (arguments from ARGV[a+1] on)
-- and writes its answer when want; it returns where its arguments end.
local function observeKey(i, key, a)
  local hd, amount, tag, mask, nd = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3], tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  a = a + 5
  local S = load(key)
  local isNew = false
  if not S then
    S = fresh(hd)
    isNew = true
  elseif idle(sec, nsec, S.ls, S.ln, RET) then
    if expired(S, sec, nsec) then
      local days, keepHd = S.d, S.hd
      S = fresh(keepHd)
      S.d = days
      isNew = true
    else
      forgetWindows(S)
    end
  end
  states[key] = S
  dirty[key] = true
  local ps, pn = S.ls, S.ln
  if not isNew then
    if later(S.fs, S.fn, sec, nsec) then S.fs, S.fn = sec, nsec end
    if later(sec, nsec, S.ls, S.ln) then S.ls, S.ln = sec, nsec end
  end
  local stored = {}
  for l = 1, 5 do stored[l] = add(S, l, B[l], amount) end
  local c, s, prevTag
  if want then
    c, s = sums(S)
    for l = 1, 5 do
      if not stored[l] then c[l], s[l] = c[l] + 1, s[l] + amount end
    end
    prevTag = S.t
  end
  local hist = 0
  if S.hd > 0 then
    local st = addDay(S, day, math.floor(S.ls / DAY))
    if want then
      hist = history(S, day)
      if not st then hist = hist + 1 end
    end
  end
  if want then
    if isNew then ps, pn = 0, 0 end
    put(i, isNew and 1 or 0, S.fs, S.fn, ps, pn, hist, prevTag, c, s)
  end
  if tag ~= '' and (S.t == '' or not later(S.tas, S.tan, sec, nsec)) then
    S.t, S.tas, S.tan = tag, sec, nsec
  end
  -- Every kind gets its slot before any value is recorded, as in Memory.
  local dims, busy = {}, {}
  for x = 1, nd do
    local dm = { pos = tonumber(ARGV[a + 1]), h = ARGV[a + 3], j = tonumber(ARGV[a + 4]), rk = tonumber(ARGV[a + 5]) }
    dm.s = slotFor(S, ARGV[a + 2], busy)
    busy[dm.s] = true
    dims[x] = dm
    a = a + 5
  end
  for _, dm in ipairs(dims) do
    local res = nil
    if want then res = { d = { 0, 0, 0, 0, 0 }, nv = false } end
    observeDim(S, dm.s, dm.h, dm.j, dm.rk, mask, res)
    if want then putDim(i, dm.pos + 1, res.nv, res.d) end
  end
  return a
end

-- The first ARGV[6] keys are observed (observe, apply), the rest read.
local nobs = tonumber(ARGV[6])
local a = 6
for i = 1, nobs do a = observeKey(i, KEYS[i], a) end
for i = nobs + 1, #KEYS do
  local nd = tonumber(ARGV[a + 1])
  local kinds = {}
  for x = 1, nd do kinds[x] = ARGV[a + 1 + x] end
  a = a + 1 + nd
  readKey(i, KEYS[i], kinds)
end
for key in pairs(dirty) do
  local S = states[key]
  redis.call('SET', key, cmsgpack.pack(S), 'EX', ttl(S))
end
return out

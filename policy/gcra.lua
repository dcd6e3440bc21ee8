-- gcra.lua - one throttling decision for one recipient, taken inside Redis
--
-- All limits that apply to a recipient are checked against Redis' own
-- clock (TIME), so every relay node agrees; they are charged together or
-- not at all: a refused recipient charges nothing.
--
-- KEYS  1..NG         GCRA state of each rate limit (TAT in microseconds)
--       then, for each candidate pool j (the sender's pool, then the pools
--       it spills over to):
--         start key   the pool's warm-up start (day number, no TTL)
--         today key   hash: day, used, p:<provider> (TTL two days)
--         backoff key hash: until (UNIX s), interval_ms, burst, tat
-- ARGV  1             offset of the warm-up time zone, seconds east of UTC
--       2             NG
--       per limit     interval_us, tolerance_us
--       then          NP, the provider name to count per pool ("" = none)
--       per pool      npoints, DAY, CAP ... (npoints pairs), split percent
--                     (0: the provider has no share of its own)
-- Reply {0, j, 0}     accepted through pool j (0: no pool)
--       {1, i, wait}  refused by limit i (NG + j: the backoff of pool j)
--       {2, j, wait}  refused: warm-up cap of pool j used up for today
-- When every pool refuses, j is the one that would take the recipient first.
-- wait is in microseconds.

-- Redis 5 and later replicate a script by its effects, so reading TIME before
-- writing is allowed.

local t = redis.call('TIME')
local now_s = tonumber(t[1])
local now = now_s * 1000000 + tonumber(t[2])
local tz = tonumber(ARGV[1])
local ng = tonumber(ARGV[2])
local a = 3

-- the worst refusal so far: kind, index, wait
local rkind, ridx, rwait = 0, 0, -1
local function refuse(kind, idx, wait)
  if wait > rwait then rkind, ridx, rwait = kind, idx, wait end
end

-- gcra - the new TAT, or nil and the wait
local function gcra(tat, interval, tolerance)
  if tat < now then tat = now end
  local allow_at = tat - tolerance
  if allow_at > now then return nil, allow_at - now end
  return tat + interval, 0
end

local newtat = {}
for i = 1, ng do
  local interval, tolerance = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  a = a + 2
  local nt, wait = gcra(tonumber(redis.call('GET', KEYS[i]) or 0) or 0,
                        interval, tolerance)
  if nt then newtat[i] = nt else refuse(1, i, wait) end
end

-- schedcap - the daily cap on a day of the warm-up (same maths as warmup.c)
local function schedcap(pts, day)
  if day < 1 then return 0 end
  if day <= pts[1][1] then return pts[1][2] end
  for p = 2, #pts do
    local d1, c1, d2, c2 = pts[p - 1][1], pts[p - 1][2], pts[p][1], pts[p][2]
    if day == d2 then return c2 end
    if day < d2 then
      return math.floor(c1 * (c2 / c1) ^ ((day - d1) / (d2 - d1)) + 0.5)
    end
  end
  return pts[#pts][2]
end

local np = tonumber(ARGV[a])
local group = ARGV[a + 1]
a = a + 2
local k = ng + 1
local today = math.floor((now_s + tz) / 86400)
local chosen, chosen_warm, chosen_stale, chosen_bo, chosen_bot = 0, false, false, nil, nil
local chosen_dkey = nil
-- the pool of the chain that would take the recipient first: reason, pool, wait
local first_reason, first_idx, first_wait = 0, 0, -1

for j = 1, np do
  local skey, dkey, bkey = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  k = k + 3
  local npts = tonumber(ARGV[a])
  a = a + 1
  local pts = {}
  for p = 1, npts do
    pts[p] = {tonumber(ARGV[a]), tonumber(ARGV[a + 1])}
    a = a + 2
  end
  local split = tonumber(ARGV[a])
  a = a + 1
  if chosen == 0 then
    local ok, reason, wait, stale = true, 0, 0, false
    if npts > 0 then
      local start = tonumber(redis.call('GET', skey) or '')
      if not start then
        -- first use of a pool nobody started: its warm-up begins today
        start = today
        redis.call('SET', skey, string.format('%d', today))
      end
      local cap = schedcap(pts, today - start + 1)
      local h = redis.call('HMGET', dkey, 'day', 'used', 'p:' .. group)
      local used, pused = 0, 0
      if tonumber(h[1]) == today then
        used, pused = tonumber(h[2]) or 0, tonumber(h[3]) or 0
      else
        stale = true
      end
      if used >= cap or (split > 0 and group ~= '' and
                         pused >= math.floor(cap * split / 100)) then
        ok, reason = false, 2
        wait = ((today + 1) * 86400 - tz - now_s) * 1000000 - tonumber(t[2])
      end
    end
    local bt = nil
    if ok then
      -- a provider asked this pool to slow down: honour it until "until"
      local b = redis.call('HMGET', bkey, 'until', 'interval_ms', 'burst', 'tat')
      if b[1] and tonumber(b[1]) and tonumber(b[1]) * 1000000 > now then
        local iv = (tonumber(b[2]) or 1000) * 1000
        local burst = tonumber(b[3]) or 1
        if burst < 1 then burst = 1 end
        local w
        bt, w = gcra(tonumber(b[4]) or 0, iv, (burst - 1) * iv)
        if not bt then ok, reason, wait = false, 1, w end
      end
    end
    if ok then
      chosen, chosen_warm, chosen_stale, chosen_bo, chosen_bot = j, npts > 0, stale, bkey, bt
      chosen_dkey = dkey
    elseif first_wait < 0 or wait < first_wait then
      first_reason, first_idx, first_wait = reason, j, wait
    end
  end
end

if np > 0 and chosen == 0 then
  if first_reason == 1 then
    refuse(1, ng + first_idx, first_wait)
  else
    refuse(2, first_idx, first_wait)
  end
end
if rwait >= 0 then
  return {rkind, ridx, rwait}
end

-- everything allows it: charge every limit
for i = 1, ng do
  redis.call('SET', KEYS[i], string.format('%.0f', newtat[i]),
             'PX', math.floor((newtat[i] - now) / 1000) + 1000)
end
if chosen > 0 then
  if chosen_warm then
    if chosen_stale then redis.call('DEL', chosen_dkey) end
    redis.call('HSET', chosen_dkey, 'day', string.format('%d', today))
    redis.call('HINCRBY', chosen_dkey, 'used', 1)
    if group ~= '' then redis.call('HINCRBY', chosen_dkey, 'p:' .. group, 1) end
    redis.call('EXPIRE', chosen_dkey, 172800)
  end
  if chosen_bot then
    redis.call('HSET', chosen_bo, 'tat', string.format('%.0f', chosen_bot))
  end
end
return {0, chosen, 0}

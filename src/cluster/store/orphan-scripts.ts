import { RedisScript } from '../redis-script';
import { UNCOUNT } from './presence-scripts';

/*
 * Records no node holds any more: those of a dead node (or of a previous
 * life of a restarted one). A live node holds its records in memory and
 * times them out itself (leave -> close after LEAVE_TIMEOUT_MS, close ->
 * gone after CLOSED_RETENTION_MS); for an orphan the cluster does it:
 * REAP takes the dead node's records into ll:orphans (ZSET clientId -> when
 * its next step is due, ms; ll:orphans:epoch the epoch it was taken at) and
 * any live node runs SWEEP when its beat says a step is due. A new session
 * of the client (a SAVE) or its deletion takes it out of the schedule; a
 * record whose epoch moved on meanwhile is left alone.
 * Times are node clocks (the records' own statusSince/closedAt and the
 * caller's `at`), like every other timestamp of a record.
 */

/** Shared by both: the schedule and the reaper's events appended to a record. */
const ORPHAN = `
local function orphan(p, id, epoch, status, since, leaveMs, keepMs)
  local due = since + leaveMs
  if status == 'close' then due = since + keepMs end
  redis.call('ZADD', p .. 'orphans', due, id)
  redis.call('HSET', p .. 'orphans:epoch', id, epoch)
end
local function addReap(h, event)
  local prev = redis.call('HGET', h, 'reap')
  if not prev then
    redis.call('HSET', h, 'reap', event)
  elseif string.sub(prev, 1, 1) == '[' then
    redis.call('HSET', h, 'reap', string.sub(prev, 1, -2) .. ',' .. event .. ']')
  else
    redis.call('HSET', h, 'reap', '[' .. prev .. ',' .. event .. ']')
  end
end
local function recNumber(rec, field)
  if not rec then return nil end
  local ok, r = pcall(cjson.decode, rec)
  if not ok or type(r) ~= 'table' then return nil end
  return tonumber(r[field])
end
`;

/**
 * REAP: ARGV prefix, nodeId, reason, at (ms), HSCAN cursor, count, boot id
 * to keep ('' = none), LEAVE_TIMEOUT_MS, CLOSED_RETENTION_MS.
 * Takes the records of ll:node:{id}:clients, only where the record still
 * names that node and the same epoch (a client already re-homed elsewhere,
 * or logged in again, is untouched), skipping the entries written by the
 * boot `keep` (a restarted node clears its previous life's clients but not
 * its own). A connected one is marked `leave` (or just not connected, when
 * it was leave or close already), with one presence event to ll:events.
 * Every one taken goes on the orphan schedule: `close` at its leave
 * timeout, gone at its retention. Returns {next cursor, ids marked
 * (the connected ones)}; the caller goes on until the cursor is '0'.
 */
export const REAP = new RedisScript(
  'presence-reap',
  `${UNCOUNT}${ORPHAN}
local p, node, reason, at, cursor, n, keep = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), ARGV[7]
local leaveMs, keepMs = tonumber(ARGV[8]), tonumber(ARGV[9])
local set = p .. 'node:' .. node .. ':clients'
local page = redis.call('HSCAN', set, cursor, 'COUNT', n)
local flat = page[2]
local marked = {}
for i = 1, #flat, 2 do
  local id, value = flat[i], flat[i + 1]
  local sep = string.find(value, ':', 1, true)
  local epoch, boot = string.sub(value, 1, sep - 1), string.sub(value, sep + 1)
  if keep == '' or boot ~= keep then
    redis.call('HDEL', set, id)
    local h = p .. 'c:' .. id
    local cur = redis.call('HMGET', h, 'epoch', 'node', 'status', 'connected', 'rec')
    if cur[1] == epoch and cur[2] == node then
      local to = cur[3]
      local since
      if cur[4] == '1' then
        uncount(p, id, cur)
        if to == 'alive' then to = 'leave' end
        count(p, id, epoch, node, to, '0', nil)
        local event = cjson.encode({clientId = id, from = cur[3], to = to, reason = reason, at = at, nodeId = node})
        redis.call('HSET', h, 'status', to, 'connected', '0')
        addReap(h, event)
        if to ~= cur[3] then
          since = at
          redis.call('XADD', p .. 'events', 'MAXLEN', '~', 10000, '*', 'presence', event)
        end
        marked[#marked + 1] = id
      end
      if to == 'close' then since = since or recNumber(cur[5], 'closedAt') end
      since = since or recNumber(cur[5], 'statusSince') or at
      orphan(p, id, epoch, to, since, leaveMs, keepMs)
    end
  end
end
return {page[1], marked}
`,
);

/**
 * SWEEP: ARGV prefix, now (ms), max, CLOSED_RETENTION_MS. Takes the
 * step of up to `max` orphans whose step is due: a `leave` one becomes
 * `close` (reason 'timeout', as a held one does; one event to ll:events)
 * and is scheduled to go at its retention; a `close` one is deleted.
 * Returns {orphans looked at, ids closed, ids deleted}.
 */
export const SWEEP = new RedisScript(
  'presence-sweep',
  `${UNCOUNT}${ORPHAN}
local p, now, max, keepMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local ids = redis.call('ZRANGE', p .. 'orphans', '-inf', now, 'BYSCORE', 'LIMIT', 0, max)
local closed, removed = {}, {}
for _, id in ipairs(ids) do
  local want = redis.call('HGET', p .. 'orphans:epoch', id)
  redis.call('ZREM', p .. 'orphans', id)
  redis.call('HDEL', p .. 'orphans:epoch', id)
  local h = p .. 'c:' .. id
  local cur = redis.call('HMGET', h, 'epoch', 'node', 'status', 'connected')
  if cur[1] and cur[1] == want and cur[4] == '0' then
    uncount(p, id, cur)
    if cur[3] == 'close' then
      redis.call('HINCRBY', p .. 'stats', 'total', -1)
      redis.call('ZREM', p .. 'clients', id)
      redis.call('DEL', h, h .. ':e')
      removed[#removed + 1] = id
    else
      count(p, id, cur[1], cur[2], 'close', '0', nil)
      local event = cjson.encode({clientId = id, from = cur[3], to = 'close', reason = 'timeout', at = now, nodeId = cur[2]})
      redis.call('HSET', h, 'status', 'close')
      addReap(h, event)
      redis.call('XADD', p .. 'events', 'MAXLEN', '~', 10000, '*', 'presence', event)
      orphan(p, id, cur[1], 'close', now, 0, keepMs)
      closed[#closed + 1] = id
    end
  end
end
return {#ids, closed, removed}
`,
);

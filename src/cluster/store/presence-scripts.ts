import { RedisScript } from '../redis-script';

/*
 * The presence scripts. A record is the HASH ll:c:{id} with
 *   rec        the ClientRecord as JSON (as the owning node last wrote it)
 *   epoch      the session fence
 *   node       the node that holds (or last held) the socket
 *   status     alive | leave | close      (may be newer than rec: the reaper)
 *   connected  1 | 0                      (idem)
 *   reap       the PresenceEvent(s) the reaper and the orphan sweep added
 *              after rec was written: one JSON event, or a JSON array of them
 * Every write of a record goes through SAVE, DELETE, REAP or SWEEP (the
 * last two in orphan-scripts.ts), which also keep ll:stats (counts by
 * status, connected, per node), the status indexes ll:clients:{status}, the
 * paging index ll:clients, and who looks after the record: the node that
 * holds it (ll:node:{id}:clients, clientId -> 'epoch:bootId', every record a
 * node saved and still holds, connected or not: what the reaper takes over
 * when that node dies) or, once reaped, nobody but the orphan schedule
 * (ll:orphans), so that stats never need a scan and no record is left
 * without someone to time it out.
 * ARGV[1] of every script is the key prefix ('ll:').
 */

/**
 * Removes a record's contribution to the counters and indexes (cur = {epoch,
 * node, status, connected}), answering 1 when a node held it, 0 when it was
 * an orphan (reaped); count adds it, and with `boot` (the writing node's
 * boot id) puts it in that node's set of held records.
 */
export const UNCOUNT = `
local function uncount(p, id, cur)
  redis.call('HINCRBY', p .. 'stats', 's:' .. cur[3], -1)
  redis.call('HINCRBY', p .. 'stats', 'n:' .. cur[2] .. ':total', -1)
  redis.call('ZREM', p .. 'clients:' .. cur[3], id)
  if cur[4] == '1' then
    redis.call('HINCRBY', p .. 'stats', 'connected', -1)
    redis.call('HINCRBY', p .. 'stats', 'n:' .. cur[2] .. ':connected', -1)
  end
  return redis.call('HDEL', p .. 'node:' .. cur[2] .. ':clients', id)
end
local function count(p, id, epoch, node, status, conn, boot)
  redis.call('HINCRBY', p .. 'stats', 's:' .. status, 1)
  redis.call('HINCRBY', p .. 'stats', 'n:' .. node .. ':total', 1)
  redis.call('ZADD', p .. 'clients:' .. status, 0, id)
  if conn == '1' then
    redis.call('HINCRBY', p .. 'stats', 'connected', 1)
    redis.call('HINCRBY', p .. 'stats', 'n:' .. node .. ':connected', 1)
  end
  if boot then redis.call('HSET', p .. 'node:' .. node .. ':clients', id, epoch .. ':' .. boot) end
end
local function unorphan(p, id)
  if redis.call('ZREM', p .. 'orphans', id) == 1 then redis.call('HDEL', p .. 'orphans:epoch', id) end
end
`;

/**
 * SAVE: ARGV prefix, id, epoch, node, status, connected, json, boot id of the writing node.
 * Returns {written (1|0), previous node, previous epoch, previous connected,
 * previous held (1 when a node held the previous record, 0 when the reaper
 * had taken it)} ('' where there was no record). Refused when the stored
 * epoch is higher. A node holds the record again: it is no orphan any more.
 */
export const SAVE = new RedisScript(
  'presence-save',
  `${UNCOUNT}
local p, id, epoch = ARGV[1], ARGV[2], tonumber(ARGV[3])
local h = p .. 'c:' .. id
local cur = redis.call('HMGET', h, 'epoch', 'node', 'status', 'connected')
local held = 0
if cur[1] then
  if tonumber(cur[1]) > epoch then return {0, cur[2], cur[1], cur[4], 0} end
  held = uncount(p, id, cur)
  if held == 0 then unorphan(p, id) end
else
  redis.call('HINCRBY', p .. 'stats', 'total', 1)
  redis.call('ZADD', p .. 'clients', 0, id)
end
count(p, id, ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[8])
redis.call('HSET', h, 'epoch', ARGV[3], 'node', ARGV[4], 'status', ARGV[5], 'connected', ARGV[6], 'rec', ARGV[7])
redis.call('HDEL', h, 'reap')
return {1, cur[2] or '', cur[1] or '', cur[4] or '', held}
`,
);

/**
 * NEXT_EPOCH: ARGV prefix, id, at least. The epoch of a new session of the
 * client, unique across nodes: above every epoch handed out before (the
 * counter ll:c:{id}:e), above the stored record's, and above `at least`
 * (the node's own entry). Two logins racing on two nodes get two epochs,
 * and the later one the higher.
 */
export const NEXT_EPOCH = new RedisScript(
  'presence-next-epoch',
  `
local p, id, least = ARGV[1], ARGV[2], tonumber(ARGV[3])
local n = redis.call('INCR', p .. 'c:' .. id .. ':e')
local stored = tonumber(redis.call('HGET', p .. 'c:' .. id, 'epoch') or '0')
local floor = math.max(stored, least)
if n <= floor then
  n = floor + 1
  redis.call('SET', p .. 'c:' .. id .. ':e', n)
end
return n
`,
);

/** DELETE: ARGV prefix, id. */
export const DELETE = new RedisScript(
  'presence-delete',
  `${UNCOUNT}
local p, id = ARGV[1], ARGV[2]
local h = p .. 'c:' .. id
local cur = redis.call('HMGET', h, 'epoch', 'node', 'status', 'connected')
if not cur[1] then return 0 end
if uncount(p, id, cur) == 0 then unorphan(p, id) end
redis.call('HINCRBY', p .. 'stats', 'total', -1)
redis.call('ZREM', p .. 'clients', id)
redis.call('DEL', h, h .. ':e')
return 1
`,
);

/**
 * PAGE: ARGV prefix, index key, after (exclusive, '' = from the start), count.
 * The size of the index (read in the same step, so a page and its total
 * agree), then the next `count` clientIds of the index in clientId order,
 * each followed by its rec, status, connected and reap fields (false when absent).
 */
export const PAGE = new RedisScript(
  'presence-page',
  `
local p, index, after, n = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local from = '-'
if after ~= '' then from = '(' .. after end
local ids = redis.call('ZRANGE', index, from, '+', 'BYLEX', 'LIMIT', 0, n)
local out = {redis.call('ZCARD', index)}
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', p .. 'c:' .. id, 'rec', 'status', 'connected', 'reap')
  out[#out + 1] = id
  out[#out + 1] = f[1]
  out[#out + 1] = f[2]
  out[#out + 1] = f[3]
  out[#out + 1] = f[4]
end
return out
`,
);

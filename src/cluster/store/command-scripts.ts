import { RedisScript } from '../redis-script';

/*
 * The command scripts. A command is the HASH ll:cmd:{id}: its fields as
 * strings (data, result and error as JSON), plus `seq` (creation order, the
 * cursor and the sort key of every index) and `origin` (the node it was
 * posted on, which a remote ACK notifies for `waitMs`). Indexes, all ZSETs
 * by seq unless said: ll:cmds, ll:c:{client}:cmds, ll:batch:{id},
 * ll:c:{client}:q (queued and sent: the truth for re-delivery and the
 * per-client bound), ll:cmds:due (by expiresAt), ll:cmds:finished (by
 * finishedAt). ARGV[1] is the key prefix.
 */

const FINAL = `
local function final(s) return s == 'acked' or s == 'failed' or s == 'expired' end
`;

/**
 * INSERT: ARGV prefix, maxPending, origin, then one JSON object of string
 * fields per command. Answers per command: -1 inserted, the nodeId of
 * another node holding the client's socket when inserted pending for a
 * client connected there (the caller nudges that node), else the client's
 * pending count (refused).
 */
export const INSERT = new RedisScript(
  'command-insert',
  `${FINAL}
local p, max, origin = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local out = {}
for i = 4, #ARGV do
  local c = cjson.decode(ARGV[i])
  local isFinal = final(c.status)
  local q = p .. 'c:' .. c.clientId .. ':q'
  local n = redis.call('ZCARD', q)
  if not isFinal and n >= max then
    out[#out + 1] = n
  else
    local seq = redis.call('INCR', p .. 'cmds:seq')
    local h = p .. 'cmd:' .. c.id
    local args = {h, 'seq', seq, 'origin', origin}
    for k, v in pairs(c) do
      args[#args + 1] = k
      args[#args + 1] = v
    end
    redis.call('HSET', unpack(args))
    redis.call('ZADD', p .. 'cmds', seq, c.id)
    redis.call('ZADD', p .. 'c:' .. c.clientId .. ':cmds', seq, c.id)
    if c.batchId then redis.call('ZADD', p .. 'batch:' .. c.batchId, seq, c.id) end
    if isFinal then
      redis.call('ZADD', p .. 'cmds:finished', tonumber(c.finishedAt or '0'), c.id)
    else
      redis.call('ZADD', q, seq, c.id)
      redis.call('ZADD', p .. 'cmds:due', tonumber(c.expiresAt), c.id)
    end
    local owner = 0
    if not isFinal then
      local r = redis.call('HMGET', p .. 'c:' .. c.clientId, 'node', 'connected')
      if r[1] and r[2] == '1' and r[1] ~= origin then owner = r[1] end
    end
    if owner ~= 0 then out[#out + 1] = owner else out[#out + 1] = -1 end
  end
end
return out
`,
);

/**
 * TRANSITION: ARGV prefix, id, clientId ('' = any), allowed statuses
 * (comma-separated), JSON of fields to set (strings), comma-separated
 * fields to delete. Returns false, or {previous status, HGETALL after}.
 */
export const TRANSITION = new RedisScript(
  'command-transition',
  `${FINAL}
local p, id, client, from = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local h = p .. 'cmd:' .. id
local cur = redis.call('HMGET', h, 'status', 'clientId')
if not cur[1] then return false end
if client ~= '' and cur[2] ~= client then return false end
if not string.find(',' .. from .. ',', ',' .. cur[1] .. ',', 1, true) then return false end
local set = cjson.decode(ARGV[5])
local args = {h}
for k, v in pairs(set) do
  args[#args + 1] = k
  args[#args + 1] = v
end
if #args > 1 then redis.call('HSET', unpack(args)) end
if ARGV[6] ~= '' then
  for field in string.gmatch(ARGV[6], '[^,]+') do redis.call('HDEL', h, field) end
end
local now = set.status or cur[1]
if not final(cur[1]) and final(now) then
  redis.call('ZREM', p .. 'c:' .. cur[2] .. ':q', id)
  redis.call('ZREM', p .. 'cmds:due', id)
  redis.call('ZADD', p .. 'cmds:finished', tonumber(redis.call('HGET', h, 'finishedAt') or '0'), id)
end
return {cur[1], redis.call('HGETALL', h)}
`,
);

/** FETCH: ARGV ids. HGETALL of each (an empty array for a gone id). */
export const FETCH = new RedisScript(
  'command-fetch',
  `
local p = ARGV[1]
local out = {}
for i = 2, #ARGV do out[#out + 1] = redis.call('HGETALL', p .. 'cmd:' .. ARGV[i]) end
return out
`,
);

/**
 * LIST: ARGV prefix, index key, after seq (exclusive), limit, status ('' =
 * any), clientId ('' = any), batchId ('' = any). Returns {total, more,
 * HGETALL of each item}. The total needs a look at every entry of the index
 * when a field filter is given: O(entries of that index), documented.
 */
export const LIST = new RedisScript(
  'command-list',
  `
local p, index, after, limit, status, client, batch = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]
local filtered = status ~= '' or client ~= '' or batch ~= ''
local items, total, more = {}, 0, 0
if not filtered then
  total = redis.call('ZCARD', index)
  local ids = redis.call('ZRANGE', index, '(' .. after, '+inf', 'BYSCORE', 'LIMIT', 0, limit + 1)
  for i, id in ipairs(ids) do
    if i > limit then more = 1 else items[#items + 1] = redis.call('HGETALL', p .. 'cmd:' .. id) end
  end
  return {total, more, items}
end
local all = redis.call('ZRANGE', index, 0, -1, 'WITHSCORES')
for i = 1, #all, 2 do
  local id, seq = all[i], tonumber(all[i + 1])
  local f = redis.call('HMGET', p .. 'cmd:' .. id, 'status', 'clientId', 'batchId')
  if f[1] and (status == '' or f[1] == status) and (client == '' or f[2] == client) and (batch == '' or f[3] == batch) then
    total = total + 1
    if seq > after then
      if #items < limit then items[#items + 1] = redis.call('HGETALL', p .. 'cmd:' .. id) else more = 1 end
    end
  end
end
return {total, more, items}
`,
);

/** PURGE: ARGV prefix, before, max. Removes up to max final commands finished at or before `before`; returns how many. */
export const PURGE = new RedisScript(
  'command-purge',
  `
local p, before, max = ARGV[1], ARGV[2], tonumber(ARGV[3])
local ids = redis.call('ZRANGE', p .. 'cmds:finished', '-inf', before, 'BYSCORE', 'LIMIT', 0, max)
for _, id in ipairs(ids) do
  local h = p .. 'cmd:' .. id
  local f = redis.call('HMGET', h, 'clientId', 'batchId')
  redis.call('DEL', h)
  redis.call('ZREM', p .. 'cmds', id)
  redis.call('ZREM', p .. 'cmds:finished', id)
  if f[1] then redis.call('ZREM', p .. 'c:' .. f[1] .. ':cmds', id) end
  if f[2] then redis.call('ZREM', p .. 'batch:' .. f[2], id) end
end
return #ids
`,
);

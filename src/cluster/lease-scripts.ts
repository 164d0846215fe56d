import { RedisScript } from './redis-script';

/**
 * BEAT: ARGV prefix, nodeId, bootId, leaseMs, register (1: also record the
 * boot in ll:node:{id}, on the first beat after a (re)connect). Renews this node's lease in
 * ll:nodes (scored by Redis's own clock, so node clocks may drift) and
 * returns {now, up to 10 nodes whose lease has run out, when the first
 * orphan step is due (ms, node clocks; -1 when none)}. One command per
 * node per lease/3: the whole of the cluster's idle cost.
 */
export const BEAT = new RedisScript(
  'node-beat',
  `
local p, node, boot, lease, register = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', p .. 'nodes', now, node)
if register == '1' then redis.call('HSET', p .. 'node:' .. node, 'boot', boot, 'since', now, 'lease', lease) end
local dead = redis.call('ZRANGE', p .. 'nodes', '-inf', '(' .. (now - lease), 'BYSCORE', 'LIMIT', 0, 10)
local first = redis.call('ZRANGE', p .. 'orphans', 0, 0, 'WITHSCORES')
return {now, dead, first[2] or '-1'}
`,
);

/**
 * CLAIM: ARGV prefix, dead nodeId, claimer, lockMs, leaseMs. The short lock
 * that makes one node the reaper of a dead one; 1 when taken (and the node
 * still dead), else 0.
 */
export const CLAIM = new RedisScript(
  'node-claim',
  `
local p, node, me, lock, lease = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local beat = redis.call('ZSCORE', p .. 'nodes', node)
if not beat or tonumber(beat) >= now - lease then return 0 end
if not redis.call('SET', p .. 'node:' .. node .. ':reaper', me, 'NX', 'PX', lock) then return 0 end
return 1
`,
);

/** FORGET: ARGV prefix, dead nodeId. The dead node is reaped: gone from ll:nodes, its lock and hash removed. */
export const FORGET = new RedisScript(
  'node-forget',
  `
local p, node = ARGV[1], ARGV[2]
redis.call('ZREM', p .. 'nodes', node)
redis.call('DEL', p .. 'node:' .. node .. ':reaper', p .. 'node:' .. node, p .. 'node:' .. node .. ':inbox')
return 1
`,
);

import { createHash } from 'node:crypto';

/**
 * The room state in Redis: one hash per meeting (`<prefix>room:<meetingId>`, field = peer id, value = the seat as
 * JSON), changed only by these scripts, so that a claim is atomic across nodes. A node is alive while its key
 * (`<prefix>node:<node>`) exists; its heartbeat refreshes it, and seats of a node whose key expired (it crashed) are
 * dropped by the next claim, which tells the one left behind. The scripts publish what members must be told to
 * their node's channel (`<prefix>to:<node>`) in the same step, so a state change and its notices cannot part.
 *
 * The scripts reach keys they are not passed (other nodes' keys and channels): one Redis (or a primary with
 * replicas), not Redis Cluster.
 */
export interface Script {
  readonly text: string;
  readonly sha: string;
}

const script = (text: string): Script => ({ text, sha: createHash('sha1').update(text).digest('hex') });

const helpers = `
local prefix = ARGV[1]
local function tell(node, delivery)
  redis.call('PUBLISH', prefix .. 'to:' .. node, cjson.encode(delivery))
end
local function alive(seat)
  return redis.call('EXISTS', prefix .. 'node:' .. seat.node) == 1
end
`;

/**
 * KEYS: room, this node's key. ARGV: prefix, seat JSON, connection id, room TTL ms, node TTL ms.
 * Drops dead nodes' seats, replaces the same user's older seat, refuses a full room, else seats and pairs.
 */
export const CLAIM = script(`${helpers}
local room = KEYS[1]
local seat = cjson.decode(ARGV[2])
redis.call('SET', KEYS[2], '1', 'PX', tonumber(ARGV[5]))
local others, dead, replaced = {}, {}, nil
local all = redis.call('HGETALL', room)
for i = 1, #all, 2 do
  local s = cjson.decode(all[i + 1])
  if not alive(s) then
    redis.call('HDEL', room, all[i])
    table.insert(dead, s)
  elseif s.peerId == seat.peerId then
    -- the same member claiming again (a heartbeat seated it first): not a replacement
  elseif s.userId == seat.userId then
    redis.call('HDEL', room, all[i])
    replaced = s
  else
    table.insert(others, s)
  end
end
for _, d in ipairs(dead) do
  for _, o in ipairs(others) do tell(o.node, { kind = 'peer-left', to = o.peerId, peerId = d.peerId }) end
end
if replaced then
  for _, o in ipairs(others) do tell(o.node, { kind = 'peer-left', to = o.peerId, peerId = replaced.peerId }) end
  tell(replaced.node, { kind = 'replaced', to = replaced.peerId })
end
local full = #others >= 2
for _, o in ipairs(others) do
  if o.role == seat.role then full = true end
end
if full then return cjson.encode({ admitted = false, replaced = replaced }) end
redis.call('HSET', room, seat.peerId, ARGV[2])
redis.call('PEXPIRE', room, tonumber(ARGV[4]))
local partner = others[1]
if partner then
  tell(partner.node, {
    kind = 'paired',
    to = partner.peerId,
    peer = { peerId = seat.peerId, role = seat.role, node = seat.node },
    connectionId = ARGV[3],
  })
end
return cjson.encode({ admitted = true, replaced = replaced, partner = partner })
`);

/**
 * KEYS: room. ARGV: prefix, peer id, reason ('left' when the member said it was leaving, else '').
 * Gives the seat up (once) and tells the others; 1 if it was there.
 */
export const LEAVE = script(`${helpers}
local room = KEYS[1]
if redis.call('HDEL', room, ARGV[2]) == 0 then return 0 end
local all = redis.call('HGETALL', room)
for i = 2, #all, 2 do
  local o = cjson.decode(all[i])
  local notice = { kind = 'peer-left', to = o.peerId, peerId = ARGV[2] }
  if ARGV[3] == 'left' then notice.reason = 'left' end
  tell(o.node, notice)
end
return 1
`);

/**
 * KEYS: room, this node's key. ARGV: prefix, seat JSON, room TTL ms, node TTL ms.
 * The heartbeat of one seated member: keeps its seat (and this node) alive, and seats it again after Redis lost it
 * (a restart) unless someone took it meanwhile: 'kept', 'seated' or 'taken'.
 */
export const RESEAT = script(`${helpers}
local room = KEYS[1]
local seat = cjson.decode(ARGV[2])
redis.call('SET', KEYS[2], '1', 'PX', tonumber(ARGV[4]))
if redis.call('HEXISTS', room, seat.peerId) == 1 then
  redis.call('PEXPIRE', room, tonumber(ARGV[3]))
  return 'kept'
end
local count = 0
local all = redis.call('HGETALL', room)
for i = 2, #all, 2 do
  local o = cjson.decode(all[i])
  if alive(o) then
    if o.userId == seat.userId or o.role == seat.role then return 'taken' end
    count = count + 1
  end
end
if count >= 2 then return 'taken' end
redis.call('HSET', room, seat.peerId, ARGV[2])
redis.call('PEXPIRE', room, tonumber(ARGV[3]))
return 'seated'
`);

/** KEYS: room. ARGV: prefix. The seats of live nodes, as a JSON array (read only). */
export const OCCUPANTS = script(`${helpers}
local seats = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 2, #all, 2 do
  local s = cjson.decode(all[i])
  if alive(s) then table.insert(seats, all[i]) end
end
return seats
`);

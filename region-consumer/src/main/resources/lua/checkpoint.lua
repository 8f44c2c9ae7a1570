-- A region consumer's checkpoint (lethe:applied:<group>), written only into the server whose
-- identity the consumer verified: the run_id this server reports now, read in this very script,
-- must be the one the consumer checked the checkpoint against. A server restored from an older
-- snapshot (or a promoted replica) has another run_id: the write is refused and the checkpoint
-- the restored data carries stays as it is, so the consumer replays from it.
--
-- Each offset is kept with the run_id it was written to (field run_id:<partition>), so a
-- partition a consumer gets only later is still compared with the server that holds it. The
-- first write after a restore first pins the restored run_id on every partition that has none
-- yet (legacy checkpoints, partitions the restored data never saw: offset 0), before the hash's
-- own run_id moves to the server answering now.
--
-- The offsets are positions in one Kafka cluster, recorded in field cluster: a checkpoint of
-- another cluster (the region moved onto a mirror of its own, back, or its cluster was rebuilt)
-- is dropped whole before this cluster's first offsets are written, so no offset of one log is
-- ever taken for a position in another.
--
-- KEYS[1]: the checkpoint. ARGV[1]: the run_id the consumer verified; ARGV[2]: the partition
-- count of the region's topic (0 when unknown); ARGV[3]: the Kafka cluster id ('' when not
-- known); ARGV[4..]: partition, offset pairs.
-- Returns 1 written, 0 refused (another server answers).
if redis.replicate_commands then
  redis.replicate_commands()
end
local runId = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
if runId == nil or runId ~= ARGV[1] then
  return 0
end
if ARGV[3] ~= '' then
  local was = redis.call('HGET', KEYS[1], 'cluster')
  if was and was ~= ARGV[3] then
    redis.call('DEL', KEYS[1])
  end
end
local written = redis.call('HGET', KEYS[1], 'run_id')
if written and written ~= runId then
  local partitions = {}
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.match(field, '^%d+$') then
      partitions[field] = true
    end
  end
  for p = 0, (tonumber(ARGV[2]) or 0) - 1 do
    partitions[tostring(p)] = true
  end
  for p, _ in pairs(partitions) do
    if redis.call('HEXISTS', KEYS[1], 'run_id:' .. p) == 0 then
      redis.call('HSET', KEYS[1], 'run_id:' .. p, written)
      redis.call('HSETNX', KEYS[1], p, '0')
    end
  end
end
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1], 'run_id:' .. ARGV[i], runId)
end
redis.call('HSET', KEYS[1], 'run_id', runId)
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'cluster', ARGV[3])
end
return 1

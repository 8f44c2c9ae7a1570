-- HSET into a server only while it is the one the region consumer verified: the run_id this
-- server reports now, read in this very script, must be ARGV[1]. For what the consumer publishes
-- into its region's Redis besides the checkpoint (the applied watermark readers trust for
-- read-your-writes): a server restored since must not receive what the lost data supported.
--
-- KEYS[1]: the hash. ARGV[1]: the verified run_id; ARGV[2..]: field, value pairs.
-- Returns 1 written, 0 refused (another server answers).
if redis.replicate_commands then
  redis.replicate_commands()
end
local runId = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
if runId == nil or runId ~= ARGV[1] then
  return 0
end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
return 1

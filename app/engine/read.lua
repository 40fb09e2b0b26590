-- Read new entries for one consumer from the first non-empty lane, in the order given, in one
-- round trip (XREADGROUP without BLOCK is allowed in scripts). KEYS = lane streams in the
-- order to try; ARGV[1] = group, [2] = consumer, [3] = count. Returns {index of the lane
-- read (1-based), entries as XREADGROUP gives them}, or {0} when every lane is empty.
for i, stream in ipairs(KEYS) do
  local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', stream, '>')
  if reply and reply[1] then
    -- Redis nests {{stream, entries}}; the embedded fakeredis (memory://) gives {stream, entries}.
    local entries = reply[2]
    if type(reply[1]) == 'table' then entries = reply[1][2] end
    if entries and #entries > 0 then
      return {i, entries}
    end
  end
end
return {0}

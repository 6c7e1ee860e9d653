-- Rotate the generated credentials: a new value of hookgate.io/rotate makes the operator generate a
-- new token and signing secret; the previous ones stay valid for the rotation grace period
-- (status.previousCredentialsValidUntil). The value is the time, so one rotation a second at most.
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["hookgate.io/rotate"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj

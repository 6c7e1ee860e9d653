-- Argo CD health of hookgate.io objects (WebhookTrigger, Workflow), read from what the operator
-- writes: status.observedGeneration and the kstatus conditions Ready, Reconciling and Stalled.
-- The verdicts match kstatus (Flux, cli-utils): InProgress is Progressing, Failed is
-- Degraded, Current is Healthy, or Suspended for a trigger suspended on purpose.
-- Runs without Lua's standard libraries, as scripts from argocd-cm do.
local function condition(type)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function says(c)
  if c.message == nil or c.message == "" then
    return c.reason
  end
  return c.reason .. ": " .. c.message
end

if obj.metadata.deletionTimestamp ~= nil then
  return { status = "Progressing", message = "Being deleted" }
end
local ready, reconciling, stalled = condition("Ready"), condition("Reconciling"), condition("Stalled")
local observed = -1
if obj.status ~= nil and obj.status.observedGeneration ~= nil then
  observed = obj.status.observedGeneration
end
if observed ~= obj.metadata.generation then
  -- A first reconcile that failed and is being retried says why, for this generation.
  if reconciling ~= nil and reconciling.status == "True" and reconciling.observedGeneration == obj.metadata.generation then
    return { status = "Progressing", message = says(reconciling) }
  end
  if observed < 0 then
    return { status = "Progressing", message = "Waiting for the hookgate operator to reconcile it" }
  end
  return {
    status = "Progressing",
    message = "Waiting for the hookgate operator to observe generation " .. obj.metadata.generation
      .. " (status is of generation " .. observed .. ")",
  }
end
if stalled ~= nil and stalled.status == "True" then
  return { status = "Degraded", message = says(stalled) }
end
if reconciling ~= nil and reconciling.status == "True" then
  return { status = "Progressing", message = says(reconciling) }
end
if ready == nil or ready.status == "Unknown" then
  return { status = "Progressing", message = "Waiting for the hookgate operator to reconcile it" }
end
if ready.status ~= "True" then
  return { status = "Degraded", message = says(ready) }
end
if ready.reason == "Suspended" then
  return { status = "Suspended", message = ready.message }
end
return { status = "Healthy", message = ready.message }

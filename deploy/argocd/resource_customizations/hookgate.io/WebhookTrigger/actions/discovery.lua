-- The Argo CD actions of a WebhookTrigger: suspend and resume (spec.suspend), and rotate its
-- generated credentials (the hookgate.io/rotate annotation). Credentials from a referenced Secret
-- (secretRef) are yours to rotate, so a trigger with only those cannot be rotated here.
local spec = obj.spec or {}
local auth = spec.auth or {}
local suspended = spec.suspend == true
local generated = (auth.bearer ~= nil and auth.bearer.secretRef == nil)
  or (auth.signature ~= nil and auth.signature.secretRef == nil)
return {
  suspend = { disabled = suspended, iconClass = "fa fa-fw fa-pause-circle", displayName = "Suspend" },
  resume = { disabled = not suspended, iconClass = "fa fa-fw fa-play-circle", displayName = "Resume" },
  rotate = { disabled = not generated, iconClass = "fa fa-fw fa-key", displayName = "Rotate credentials" },
}

-- Resume a suspended trigger.
obj.spec.suspend = false
return obj

-- Suspend: the trigger's URL answers 403 and starts nothing until it is resumed.
obj.spec.suspend = true
return obj

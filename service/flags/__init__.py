"""Flag lifecycle: evaluate rules over stored items, open/update/resolve flags, rebuild the promise
ledger, produce client feed events, publish flags to clients or keep them internal (`publishing`),
and push flags back to the provider as comments."""

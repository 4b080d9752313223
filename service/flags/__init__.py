"""Flag lifecycle: evaluate rules over stored items, open/update/resolve flags, rebuild the promise
ledger, produce client feed events, and push flags back to the provider as comments."""

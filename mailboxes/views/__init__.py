"""The per-domain pages (mailboxes, aliases, alias domains) and the address trace.

Every view takes the domain from the URL through domains.selectors.domain_get (a foreign
domain is a 404) and the object from the selectors scoped to that domain; writes go through
the services. The same view serves a full page and, for htmx, the fragment it swaps.
"""

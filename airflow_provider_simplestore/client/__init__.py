"""The hook's machinery, shared by the sync and async hooks: connection settings, the OAuth token and
its cache, the retry policy, pacing, the wire format and the one table of resources.

Nothing here opens a connection on import; the hooks in `hooks/` do the I/O.
"""

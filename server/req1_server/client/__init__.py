"""``req1``: the command-line client of the req1 API (contract §14 of the extended API).

Layout, in reading order: ``main`` (entry point, exit codes), ``parser`` (the command table as argparse),
``commands`` / ``transfer`` (one coroutine per command, calling the API), ``api`` (aiohttp session, bearer
token, one refresh on 401, error envelopes), ``credentials`` (the stored login, 0600), ``render`` (pure
text output) and ``completion`` (shell completion scripts generated from the parser).
"""

"""`vwaza serve`: the HTTP API over the same services, one more front end beside `cli/`.

Only this package (and `vwaza_cli/cli/serve.py`, lazily) imports fastapi and uvicorn.
"""

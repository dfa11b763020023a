"""The integration API (/api/v1): tokens, read and write endpoints, plan import, events.

`dondoc.api.app.create_api` builds it; the web app mounts it. Nothing is imported here,
so importing a piece of the API does not pull in the web app (which imports the API).
"""

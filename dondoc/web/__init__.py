"""The office's web app and the agencies' answer links (FastAPI, server-rendered Jinja).

`create_app(engine=…, settings=…, clock=…)` builds it; nothing is created at import.
"""

from dondoc.web.app import create_app

__all__ = ["create_app"]

"""What the LLM application imports to read Autonomic's flags: a cached reader kept fresh by
the `{prefix}changes` channel, sync (`FlagClient`) and async (`AsyncFlagClient`).

Importing this package loads only redis-py, never the server. An OpenFeature
provider over the same client is in `app.flagclient.openfeature`.
"""

from app.flagclient.aio import AsyncFlagClient
from app.flagclient.core import Resolution, parse_bool
from app.flagclient.sync import FlagClient

__all__ = ["AsyncFlagClient", "FlagClient", "Resolution", "parse_bool"]

"""`autonomic_flags`: what an application imports to read Autonomic's flags from Redis.

A cached reader kept fresh by the `{prefix}changes` channel, synchronous
(`FlagClient`) and asyncio (`AsyncFlagClient`). It depends on redis-py only;
the OpenFeature provider over the same client is `autonomic_flags.openfeature`
(install the `openfeature` extra). The key schema, channel and message shape
are in `autonomic_flags.contract`.
"""

from autonomic_flags.aio import AsyncFlagClient
from autonomic_flags.contract import Change, decode_name_part, name_part, parse_bool
from autonomic_flags.core import Resolution
from autonomic_flags.sync import FlagClient

__version__ = "0.1.0"
__all__ = [
    "AsyncFlagClient",
    "Change",
    "FlagClient",
    "Resolution",
    "__version__",
    "decode_name_part",
    "name_part",
    "parse_bool",
]

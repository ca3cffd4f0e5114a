"""Simulated centre systems for OneDoor demos and tests (contract: ``sandbox/API.md``).

>>> async with run_sandbox(None, state_dir) as sb:
...     sb.urls[Centre.MEDIATION], sb.idp_url, sb.world.sample_citizens(5)
"""

from sandbox.client import get_stats, reset_stats, set_fault
from sandbox.idp import mint_token
from sandbox.runner import Sandbox, run_sandbox, serve_forever
from sandbox.world import World

__all__ = [
    "Sandbox", "World", "get_stats", "mint_token", "reset_stats", "run_sandbox",
    "serve_forever", "set_fault",
]
